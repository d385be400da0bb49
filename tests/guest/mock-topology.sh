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

# A member of the assembled region leaves and comes back (its mock memdev
# unbound and bound again); whether or not it re-joins, the mock unloads
# without an oops (a member whose re-join failed stayed in the region's
# targets after its decoder was freed: unloading walked it)
C=/sys/bus/cxl/devices
rebind_member() {
	local t ep mem pdn drv=/sys/bus/platform/drivers/cxl_mock_mem
	t=$(cat $C/region*/target${1:-0} 2>/dev/null | grep -m1 decoder) || return 1
	ep=$(basename "$(dirname "$(readlink -f "$C/$t")")")
	mem=$(basename "$(readlink -f "$C/$ep/uport")")
	pdn=$(basename "$(dirname "$(readlink -f "$C/$mem")")")
	echo "# $t $ep $mem $pdn"
	echo "$pdn" >$drv/unbind && echo "$pdn" >$drv/bind && udevadm settle --timeout=60 &&
	echo "# re-join: $(dmesg | grep -c "failed to attach $t") failed attach(es) of $t"
}
check "mock:auto-region-member-rebound" rebind_member
check "mock:reload-after-member-rebound" bash -c 'modprobe -r cxl_test && /lab/tests/guest/lib/load-cxl-test'

# The other member leaves and comes back three times: the member that
# stayed must not be attached to its ports again (that counted it twice
# and held the region, its root decoder and the root port for good), so
# the mock reloads with the same root port and region names
roots() { ls -d $C/root* $C/region* 2>/dev/null | xargs -n1 basename | tr '\n' ' '; }
before=$(roots)
echo "# before: $before"
check "mock:auto-region-other-member-rebound-thrice" bash -c "$(declare -f rebind_member); C=$C;
	rebind_member 1 && rebind_member 1 && rebind_member 1"
check "mock:reload-releases-the-auto-region" bash -c 'modprobe -r cxl_test && /lab/tests/guest/lib/load-cxl-test'
echo "# after: $(roots)"
check "mock:nothing-held-after-member-rebinds" test "$(roots)" = "$before"
done_testing
