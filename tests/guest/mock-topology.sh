#!/bin/bash
# cxl_test: the mock topology enumerates and assembles its auto region.
. /lab/tests/guest/lib/ktap.sh

mems=$(cxl list -b cxl_test -M)
n=$(jq length <<<"${mems:-[]}")
check "mock:memdevs-enumerate" test "$n" -gt 0
echo "# $n cxl_test memdevs"
check "mock:every-memdev-has-capacity" \
	test "$(jq '[.[] | select((.ram_size // 0) + (.pmem_size // 0) == 0)] | length' <<<"$mems")" = 0

# cxl_test pre-programs the decoders of one host bridge; the region they
# describe is assembled at load, without any user action.
regions=$(cxl list -b cxl_test -R)
auto=$(jq '[.[] | select(.decode_state == "commit" and (.size // 0) > 0)] | length' <<<"${regions:-[]}")
echo "$regions" | sed 's/^/# /'
check "mock:auto-region-assembled" test "${auto:-0}" -ge 1

# The mock unloads and reloads cleanly (every ndctl test relies on it).
check "mock:reload" bash -c 'modprobe -r cxl_test && /lab/tests/guest/lib/load-cxl-test'
check "mock:auto-region-after-reload" \
	test "$(cxl list -b cxl_test -R | jq '[.[] | select(.decode_state == "commit")] | length')" -ge 1
done_testing
