#!/bin/bash
# A seeded hostile Dynamic Capacity device (tests/guest/lib/dc-fuzz) plays
# 2000 records (300 on a debug kernel) against the host on cxl_test:
# records of every type, More chains of any length, overflows, late
# records, mailbox failures, list churn, and the host unbinding and
# rebinding things between bursts. At every quiet point the host's view
# must be the device's, every group answered once, nothing refused by
# the device, slab bounded, no splat.
# The seed is fixed so that a failure is reproduced with
#     make fuzz FUZZ_SEED=<seed> FUZZ_RECORDS=2000
# (on a debug kernel: FUZZ_RECORDS=300 VARIANT=debug)
# The mock is reloaded without dcd at the end.
. /lab/tests/guest/lib/ktap.sh

seed=${DC_FUZZ_SEED:-3}
# A debug kernel (KASAN) plays a record ~25 times slower under TCG: 300
# records there keep the script in its budget; `make fuzz VARIANT=debug`
# runs the long ones
if grep -q ' kasan_' /proc/kallsyms; then
	records=${DC_FUZZ_RECORDS:-300}
else
	records=${DC_FUZZ_RECORDS:-2000}
fi
out=$(python3 /lab/tests/guest/lib/dc-fuzz --seed "$seed" --records "$records" --minimize 120 2>&1)
rc=$?
grep -v '^# kernel: ' <<<"$out" | grep -v '^fuzz: ' | tail -60 | sed 's/^\([^#]\)/# \1/'
line=$(grep '^fuzz: ' <<<"$out" | tail -1)
echo "# ${line:-the fuzzer did not finish (rc $rc)}"
if [ "$rc" = 0 ] && [[ $line =~ ^fuzz:\ seed\ [0-9]+,\ ([0-9]+)\ records,\ [0-9]+\ groups,\ 0\ violations,\ 0\ splats$ ]] &&
   [ "${BASH_REMATCH[1]}" -ge "$records" ]; then
	ok "mock-fuzz:seed-$seed-$records-records"
else
	not_ok "mock-fuzz:seed-$seed-$records-records"
fi
done_testing
