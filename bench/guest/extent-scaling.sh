#!/bin/bash
# Extent engine scaling under cxl_test: one Add Capacity group of N 2 MiB
# extents (offered eight records at a time, the mock log's size) until the
# host shows them all, then one Release Capacity record covering them until
# the host shows none, for growing N.  Run in the mock guest:
#
#   lab/vm mock -- /lab/bench/guest/extent-scaling.sh
#
# Prints one line per N: total milliseconds and milliseconds per extent for
# the add and for the release.  Flat per-extent times mean linear cost.
set -eu
C=/sys/bus/cxl/devices
modprobe -r cxl_test && modprobe -r cxl_mock_mem
modprobe cxl_mock_mem dcd=1 && /lab/tests/guest/lib/load-cxl-test >/dev/null
read -r m region < <(/lab/tests/guest/lib/dc-region create-any 1)
pd=/sys/bus/platform/devices/$(basename "$(readlink -f "$C/$m/..")")
dec=$(cat "$C/$region/target0")
python3 - "$pd" "$C/$region/dax_region${region#region}" "$(cat "$C/$dec/dpa_resource")" <<'PY'
import sys, time
sys.path.insert(0, "/lab/bench/guest")
from dclib import MB, extents, offer, wait, write  # noqa: E402
pd, dax, dpa0 = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)


def count():
    return extents(dax)


time.sleep(1)
c0 = count()
base = dpa0 + 16 * MB
print("# N  add_ms  add_ms/extent  release_ms  release_ms/extent")
for n in (8, 16, 32, 64, 112):
    t0 = time.monotonic()
    offer(pd, base, n)
    wait(lambda: count() == c0 + n)
    t1 = time.monotonic()
    write(pd + "/dc_del_extent", "%#x:%#x" % (base, 2 * MB * n))
    wait(lambda: count() == c0)
    t2 = time.monotonic()
    add, rel = (t1 - t0) * 1000, (t2 - t1) * 1000
    print("%4d  %7.1f  %6.2f  %7.1f  %6.2f" % (n, add, add / n, rel, rel / n), flush=True)
PY
/lab/tests/guest/lib/dc-region destroy "$region"
modprobe -r cxl_test && modprobe -r cxl_mock_mem && modprobe cxl_mock_mem &&
	/lab/tests/guest/lib/load-cxl-test >/dev/null
