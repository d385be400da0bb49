#!/bin/bash
# Sparse dax region scaling under cxl_test: with N 2 MiB extents accepted
# (one Add Capacity group), one write of N * 2 MiB to daxR.0/size carves a
# dax device across all of them (N ranges, N mapping devices), and one
# write of 0 gives them back, for growing N.  Run in the mock guest:
#
#   lab/vm mock -- /lab/bench/guest/dax-scaling.sh
#
# Prints one line per N: milliseconds and milliseconds per extent for the
# carve and for the shrink.  Flat per-extent times mean linear cost.
set -eu
C=/sys/bus/cxl/devices
modprobe -r cxl_test && modprobe -r cxl_mock_mem
modprobe cxl_mock_mem dcd=1 && /lab/tests/guest/lib/load-cxl-test >/dev/null
read -r m region < <(/lab/tests/guest/lib/dc-region create-any 1)
pd=/sys/bus/platform/devices/$(basename "$(readlink -f "$C/$m/..")")
dec=$(cat "$C/$region/target0")
rid=${region#region}
python3 - "$pd" "$C/$region/dax_region$rid" "$(cat "$C/$dec/dpa_resource")" "/sys/bus/dax/devices/dax$rid.0" <<'PY'
import glob, sys, time
sys.path.insert(0, "/lab/bench/guest")
from dclib import MB, extents, offer, wait, write  # noqa: E402
pd, dax, dpa0, dev = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), sys.argv[4]


def count():
    return extents(dax)


time.sleep(1)
c0 = count()
base = dpa0 + 16 * MB
print("# N  carve_ms  carve_ms/extent  shrink_ms  shrink_ms/extent")
for n in (8, 16, 32, 64, 112):
    offer(pd, base, n)
    wait(lambda: count() == c0 + n)
    # the pre-accepted untagged 2 MiB extent is carved too: n + 1 extents
    t0 = time.monotonic()
    write(dev + "/size", str(2 * MB * (n + 1)))
    t1 = time.monotonic()
    nmap = len(glob.glob(dev + "/mapping[0-9]*"))
    write(dev + "/size", "0")
    t2 = time.monotonic()
    write(pd + "/dc_del_extent", "%#x:%#x" % (base, 2 * MB * n))
    wait(lambda: count() == c0)
    carve, shrink = (t1 - t0) * 1000, (t2 - t1) * 1000
    print("%4d  %8.1f  %6.2f  %8.1f  %6.2f  (%d ranges)" %
          (n + 1, carve, carve / (n + 1), shrink, shrink / (n + 1), nmap), flush=True)
PY
/lab/tests/guest/lib/dc-region destroy "$region"
modprobe -r cxl_test && modprobe -r cxl_mock_mem && modprobe cxl_mock_mem &&
	/lab/tests/guest/lib/load-cxl-test >/dev/null
