#!/bin/bash
# cxl_test with Dynamic Capacity (cxl_mock_mem dcd=1): DC partitions,
# decoder modes, a DC region built and torn down, DC records traced in the
# order they were logged, log overflow reported once, and malformed DC
# configurations rejected with one error while the device stays usable.
# The mock is reloaded without dcd at the end: later tests (ndctl's cxl
# suite) must see the mock they know.
. /lab/tests/guest/lib/ktap.sh
H=/lab/tests/guest/lib/dc-region
C=/sys/bus/cxl/devices
P=/sys/bus/platform/drivers/cxl_mock_mem
T=/sys/kernel/tracing

reload() {
	modprobe -r cxl_test && modprobe -r cxl_mock_mem &&
		modprobe cxl_mock_mem "$@" && /lab/tests/guest/lib/load-cxl-test
}
# memdevs whose mock device is a cxl_mem (not an RCD) platform device
pdev_of() { basename "$(readlink -f "$C/$1/..")"; }
dc_mems() {
	local m
	for m in $C/mem*; do
		[ -d "$m/dynamic_ram_1" ] && basename "$m"
	done
}
wait_memdev() {	# wait_memdev PDEV: the memdev of that mock device, once probed
	local i m
	for i in $(seq 100); do
		for m in $C/mem*; do
			[ -e "$m" ] && [ "$(pdev_of "${m##*/}")" = "$1" ] && basename "$m" && return 0
		done
		sleep 0.1
	done
	return 1
}
# inject FILE: stdin to FILE in a single write(), as one burst of records
inject() {
	python3 -c 'import os, sys; d = sys.stdin.buffer.read(); fd = os.open(sys.argv[1], os.O_WRONLY); assert os.write(fd, d) == len(d)' "$1"
}
rebind() {	# rebind PDEV
	echo "$1" >$P/unbind && echo "$1" >$P/bind && udevadm settle && wait_memdev "$1"
}

check "mock-dcd:reload-with-dcd" reload dcd=1
mems=$(dc_mems)
n=$(echo $mems | wc -w)
echo "# DC memdevs: $mems"
check "mock-dcd:dc-memdevs" test "$n" -gt 0
# the mock's DC partition size, a module parameter: 1G by default
dcsize=$(cat /sys/module/cxl_mock_mem/parameters/dc_region_size 2>/dev/null)
echo "# DC partition size: ${dcsize:-none}"
check "mock-dcd:dc-partition-size-default-1G" test "$dcsize" = $((1 << 30))
bad=""
for m in $C/mem*; do
	m=${m##*/}
	case "$(pdev_of "$m")" in
	cxl_rcd*) [ -d "$C/$m/dynamic_ram_1" ] && bad="$bad $m(rcd-has-dc)" ;;
	*) [ "$(($(cat $C/$m/dynamic_ram_1/size 2>/dev/null)))" = "$dcsize" ] &&
		[ "$(($(cat $C/$m/dynamic_ram_2/size 2>/dev/null)))" = "$dcsize" ] &&
		[ ! -d "$C/$m/dynamic_ram_3" ] || bad="$bad $m(dc-sizes)"
	   [ "$(cat $C/$m/ram/size)" = 0x40000000 ] &&
		[ "$(cat $C/$m/pmem/size)" = 0x40000000 ] || bad="$bad $m(static)" ;;
	esac
done
echo "# mismatches:${bad:- none}"
check "mock-dcd:two-1G-dc-partitions-after-unchanged-static" test -z "$bad"

# Endpoint decoder modes
m=$(echo $mems | cut -d' ' -f1)
ep=""
for e in $C/endpoint*; do
	[ "$(readlink -f $e/uport)" = "$(readlink -f $C/$m)" ] && ep=${e##*/}
done
d=""
for x in $C/$ep/decoder[0-9]*; do
	[ $(($(cat $x/dpa_size))) = 0 ] && d=$x && break
done
echo "# $m $ep free decoder ${d##*/}"
check "mock-dcd:decoder-mode-dynamic_ram_2" \
	bash -c "echo dynamic_ram_2 > $d/mode && test \"\$(cat $d/mode)\" = dynamic_ram_2"
check "mock-dcd:decoder-mode-absent-partition-refused" \
	bash -c "! echo dynamic_ram_3 > $d/mode && ! echo dynamic_ram_9 > $d/mode"
check "mock-dcd:decoder-mode-ram-again" \
	bash -c "echo ram > $d/mode && test \"\$(cat $d/mode)\" = ram"

# A DC region on the first DC memdev that has an x1 root decoder
region=""
for m in $mems; do
	if region=$($H create "$m" 1 2>/tmp/dc-region.err); then break; fi
	region=""
done
sed 's/^/# /' /tmp/dc-region.err
if [ -n "$region" ]; then
	ok "mock-dcd:dc-region-created"
	check "mock-dcd:dc-region-mode" test "$(cat $C/$region/mode)" = dynamic_ram_1
	check "mock-dcd:dc-region-committed" test "$(cat $C/$region/commit)" = 1
	check "mock-dcd:dc-region-sparse-dax-region" ls -d $C/$region/dax_region*
	check "mock-dcd:dc-region-torn-down" $H destroy "$region"
	# nothing of the allocation stays reserved, the skip over the
	# static partitions included
	sed 's/^/# /' /sys/kernel/debug/cxl/$m/dpamem
	check "mock-dcd:dc-region-dpa-released" \
		bash -c "! grep -q decoder /sys/kernel/debug/cxl/$m/dpamem"
else
	not_ok "mock-dcd:dc-region-created"
fi

# DC records come out as cxl_dynamic_capacity trace events, in order
mountpoint -q $T || mount -t tracefs nodev $T
echo 1 >$T/tracing_on
echo 1 >$T/events/cxl/cxl_dynamic_capacity/enable
echo >$T/trace
m=$(echo $mems | cut -d' ' -f1)
inj=/sys/bus/platform/devices/$(pdev_of "$m")/dc_inject
base=0x80000000
printf '0 0 0x80000000 0x200000 1\n0 0 0x80400000 0x400000 0 5e7a9c4e-1111-4d2a-9c6b-0123456789ab 0\n1 1 0x90000000 0x200000 0\n2 0 0x80000000 0x200000 0\n' | inject "$inj"
got=$(grep -o "cxl_dynamic_capacity: memdev=$m .*" $T/trace |
	sed -E "s/.*event_type='([^']+)'.*region_index=([0-9]+) flags=(\S+) dpa=(\S+) length=(\S+) tag=(\S+) .*/\1|\2|\3|\4|\5|\6/")
want="Add capacity|0|0x1|0x80000000|0x200000|00000000-0000-0000-0000-000000000000
Add capacity|0|0x0|0x80400000|0x400000|5e7a9c4e-1111-4d2a-9c6b-0123456789ab
Release capacity|1|0x0|0x90000000|0x200000|00000000-0000-0000-0000-000000000000
Forced capacity release|0|0x0|0x80000000|0x200000|00000000-0000-0000-0000-000000000000"
echo "$got" | sed 's/^/# got: /'
check "mock-dcd:records-traced-in-order" test "$got" = "$want"

# Twelve records at once (one group) overflow the mock's 8-record log:
# reported once a burst, however many reads the drain takes (the extent
# engine rejects the group whose closing record was lost, so the next
# burst is news)
dmesg -C
burst=$(for i in $(seq 12); do echo "0 0 $((base + i * 0x200000)) 0x200000 $((i < 12))"; done)
echo "$burst" | inject "$inj"
sleep 1
echo "$burst" | inject "$inj"
sleep 1
lost=$(dmesg | grep -c "Dynamic Capacity events lost")
dmesg | grep "Dynamic Capacity events lost" | sed 's/^/# /'
check "mock-dcd:overflow-reported-once-a-burst" test "$lost" = 2
echo 0 >$T/events/cxl/cxl_dynamic_capacity/enable

# Malformed configurations: one error naming the field, device usable.
# Use a memdev in no region: the mock's auto-assembled region does not
# survive one of its members being rebound.
pd=""
for x in $mems; do
	e=""
	for y in $C/endpoint*; do
		[ "$(readlink -f $y/uport)" = "$(readlink -f $C/$x)" ] && e=$y
	done
	busy=0
	for y in $e/decoder[0-9]*; do [ $(($(cat $y/size))) = 0 ] || busy=1; done
	[ $busy = 0 ] && pd=$(pdev_of "$x") && break
done
echo "# rebinding $pd"
for fault in 1:unaligned_base:base 2:block_size:"block size" 3:overlap:base; do
	num=${fault%%:*} rest=${fault#*:} name=${rest%%:*} field=${rest#*:}
	echo "$num" >/sys/module/cxl_mock_mem/parameters/dc_config_fault
	dmesg -C
	mm=$(rebind "$pd")
	errs=$(dmesg | grep -c "cxl_mock_mem $pd: .*Dynamic Capacity disabled")
	dmesg | grep "cxl_mock_mem $pd:" | grep -i "dynamic\|DC " | sed 's/^/# /'
	check "mock-dcd:bad-config-$name-one-error" test "$errs" = 1
	check "mock-dcd:bad-config-$name-names-field" \
		bash -c "dmesg | grep -q 'DC region [01]: $field 0x'"
	check "mock-dcd:bad-config-$name-static-usable" \
		test -n "$mm" -a "$(cat $C/$mm/ram/size 2>/dev/null)" = 0x40000000 -a ! -d "$C/$mm/dynamic_ram_1"
done
echo 0 >/sys/module/cxl_mock_mem/parameters/dc_config_fault
mm=$(rebind "$pd")
check "mock-dcd:good-config-restores-dc" test -n "$mm" -a -d "$C/$mm/dynamic_ram_1"

# No mock device refused a DC command of the host (each checks them as
# the spec says a device does, and counts what it refused)
# (order_errors and release_rejects are counted as the device refuses,
# refused once the command is done; a device whose counters cannot be
# read fails)
refused_none() {
	local f n bad=0 seen=0
	for f in $P/*/dc_stats; do
		[ -e "$f" ] || continue
		seen=$((seen + 1))
		n=$(awk '$1 == "refused" || $1 == "order_errors" || $1 == "release_rejects" { n += $2; k++ }
			 END { if (k == 3) print n }' "$f")
		[ "$n" = 0 ] && continue
		echo "# ${f%/dc_stats}: ${n:-counters missing}"
		grep -E '^(refused|order_errors|release_rejects)' "$f" | sed 's/^/#   /'
		bad=1
	done
	[ $seen -gt 0 ] || { echo "# no dc_stats under $P"; bad=1; }
	[ $bad = 0 ] || dmesg | grep -E 'DC mock|DC log' | tail -n 5 | sed 's/^/# /'
	return $bad
}
check "mock-dcd:device-refused-nothing" refused_none

# The partition size is a module parameter (for benchmarks): another
# multiple of 256M is taken, anything else refused when the module loads
dmesg -C
check "mock-dcd:reload-with-2G-partitions" reload dcd=1 dc_region_size=$((2 << 30))
m=$(dc_mems | head -n 1)
check "mock-dcd:2G-partitions" test "$(($(cat $C/$m/dynamic_ram_1/size 2>/dev/null)))" = $((2 << 30)) -a \
	"$(($(cat $C/$m/dynamic_ram_2/size 2>/dev/null)))" = $((2 << 30))
modprobe -r cxl_test && modprobe -r cxl_mock_mem
check "mock-dcd:bad-partition-size-refused" bash -c "! modprobe cxl_mock_mem dcd=1 dc_region_size=$((3 << 27)) &&
	test ! -d /sys/module/cxl_mock_mem &&
	dmesg | grep -q 'cxl_mock_mem: dc_region_size 0x18000000: not a multiple of 256M up to 16G'"

# Back to the mock everyone else expects
check "mock-dcd:reload-without-dcd" reload
check "mock-dcd:no-dc-without-dcd" test -z "$(dc_mems)"
done_testing
