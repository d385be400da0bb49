#!/bin/bash
# Page references that outlive a dax device's mappings (cxl_test DCD,
# cxl_mock_mem dcd=1): pages of a dax device spliced into a pipe hold
# references that unmapping does not drop.  The memory map of those pages
# must stay until the pipe lets go (freed beneath it, closing the pipe
# faults), and the capacity must not go back to the device meanwhile,
# whether the dax device is disabled by the host or forced out by the
# device.  The mock is reloaded without dcd at the end.
. /lab/tests/guest/lib/ktap.sh
. /lab/tests/guest/lib/dc-mock.sh

has_off() { grep -qx "$(hex "$1")" "$dax"/extent*/offset 2>/dev/null; }
lacks_off() { [ -d "$dax" ] && ! has_off "$1"; }
# said SINCE TEXT: the kernel logged TEXT after dmesg line count SINCE
said() { dmesg | tail -n +$(($1 + 1)) | grep -q "$2"; }
lines() { dmesg | wc -l; }
running() { kill -0 "$1" 2>/dev/null; }
oopsless() { ! dmesg | grep -E 'BUG|Oops|WARNING|Call Trace|blocked for more than'; }
# at_one DEV HPA: the device is one mapping, starting there
at_one() { [ "$(nmappings "$1")" = 1 ] && first_at "$1" "$2"; }
# made NAME SIZE OFFSET: a dax device of SIZE carved with daxctl, one
# mapping at OFFSET in the region (NAME-device-at); its name in $dev
made() { dev=$(mk "$2"); check "$1-device-at" at_one "$dev" $((hpa0 + $3)); }
# pin NAME DEV SIZE: splice the device's pages into a pipe, which holds
# them until unpin (NAME-pinned)
pin() {
	rm -f /tmp/pin-go
	$MAP "/dev/$2" "$3" pin /tmp/pin-go >"/tmp/pin-$2.out" 2>&1 &
	pin_pid=$! pin_dev=$2 pin_size=$3
	check "$1-pinned" wait_for grep -q pinned "/tmp/pin-$2.out"
}
# unpin NAME: the pipe lets go, having read all it held (NAME-pipe-read)
unpin() {
	touch /tmp/pin-go
	wait "$pin_pid"
	sed 's/^/# /' "/tmp/pin-$pin_dev.out"
	check "$1-pipe-read" grep -qx "read $pin_size bytes" "/tmp/pin-$pin_dev.out"
}
# tagged NAME TAG OFF1 SEQ1 OFF2 SEQ2: a tagged allocation of two 2M
# extents, at OFF1 and OFF2 in the region, offered in one group and
# claimed whole by a new dax device, enabled (NAME-added, -claimed,
# -enabled); its name in $dev
tagged() {
	offer "$(at "$3"):0x200000:$2:1:$4" "$(at "$5"):0x200000:$2:0:$6"
	check "$1-added" wait_for has_off "$5"
	dev=$(new_seed)
	check "$1-claimed" bash -c "echo $2 >$D/$dev/uuid && test \$(cat $D/$dev/size) = $((4 * M))"
	check "$1-enabled" daxctl enable-device "$dev"
}
# dev_at HPA: the dax device of the region whose first mapping starts there
dev_at() {
	local d
	for d in "$D"/dax$rid.*; do
		first_at "${d##*/}" "$1" && { echo "${d##*/}"; return; }
	done
}

dc_mock_region mock-pin
dmesg -C
echo 'file extent.c +p' >/proc/dynamic_debug/control
check "mock-pin:dax-region-bound" wait_for test -e "$dax/dax_region/available_size"
# the mock's untagged 2M at 0 goes to a filler, so that what follows is
# carved from the extents offered here
filler=$(mk 2M)
check "mock-pin:filler" first_at "$filler" "$hpa0"
offer "$(at 32*M):0x400000:0:0" "$(at 48*M):0x400000:0:0"
check "mock-pin:extents-added" wait_for has_off $((48 * M))

# The host disables a dax device whose pages a pipe holds: the disable
# waits for the pipe and says so; the capacity stays with the host (a
# release the device asks for meanwhile waits), then goes back once the
# pipe let go and the device is destroyed.
made mock-pin:disable 4M $((32 * M))
dA=$dev
pin mock-pin:disable "$dA" $((4 * M))
n0=$(lines)
daxctl disable-device "$dA" >/tmp/pin-disable.out 2>&1 &
dis=$!
check "mock-pin:disable-says-it-waits" wait_for said "$n0" "$dA: .* pages still referenced after .* s: waiting"
check "mock-pin:disable-waits" running $dis
echo "$(at 32*M):0x400000" >"$pd/dc_del_extent"
check "mock-pin:disable-release-waits" wait_for said "$n0" "release of DC $(at 32*M)-$(hex $((dpa0 + 36 * M - 1))) waits for its users"
check "mock-pin:disable-device-keeps" dev_has $((32 * M)) $((4 * M))
unpin mock-pin:disable
wait $dis
check "mock-pin:disable-completes" test $? = 0
check "mock-pin:disable-says-idle" wait_for said "$n0" "$dA: pages idle after"
check "mock-pin:disable-destroy" daxctl destroy-device "$dA"
check "mock-pin:disable-released" wait_for lacks_off $((32 * M))
check "mock-pin:disable-device-took-it" wait_for bash -c "! grep -q '^$(at 32*M):' $pd/dc_accepted_extents"
check "mock-pin:disable-no-oops" oopsless

# The device forces out capacity whose pages a pipe holds: the dax device
# is killed and deleted at once, and the engine goes on; the memory map
# and the reservation of the device's range stay until the pipe lets go,
# so a new dax device over re-added capacity there cannot be enabled
# meanwhile, and the kernel says what it waits for.
made mock-pin:forced 4M $((48 * M))
dB=$dev
pin mock-pin:forced "$dB" $((4 * M))
n0=$(lines)
echo "$(at 48*M):0x400000" >"$pd/dc_force_del_extent"
check "mock-pin:forced-revoked" wait_for said "$n0" "$dB: capacity revoked while enabled"
check "mock-pin:forced-handed-off" wait_for said "$n0" "$dB: .* pages still referenced: their memory map stays"
check "mock-pin:forced-device-gone-while-pinned" wait_for test ! -e "$D/$dB"
check "mock-pin:forced-extent-gone-while-pinned" wait_for lacks_off $((48 * M))
check "mock-pin:forced-range-still-reserved" grep -q " : $dB\$" /proc/iomem
# the device's other DC events go on meanwhile
offer "$(at 56*M):0x200000:0:0"
check "mock-pin:forced-engine-goes-on-while-pinned" wait_for has_off $((56 * M))
offer "$(at 48*M):0x400000:0:0"
check "mock-pin:forced-readded" wait_for bash -c "$(declare -f dev_has at hex has_off); pd=$pd dpa0=$dpa0 dax=$dax; dev_has $((48 * M)) $((4 * M)) && has_off $((48 * M))"
n1=$(lines)
daxctl create-device -r "$rid" -s 4M >/dev/null 2>&1
dC=$(dev_at $((hpa0 + 48 * M)))
check "mock-pin:forced-new-device-over-it" test -n "$dC"
check "mock-pin:forced-new-device-not-enabled" bash -c "! test -e $D/$dC/driver"
check "mock-pin:forced-new-device-says-why" said "$n1" "$dC: mapping0: $(hex $((hpa0 + 48 * M)))-.* could not reserve range"
check "mock-pin:forced-says-it-waits" wait_for said "$n0" "$dB: .* pages still referenced after .* s: waiting"
check "mock-pin:forced-pipe-held" running $pin_pid
unpin mock-pin:forced
check "mock-pin:forced-says-idle" wait_for said "$n0" "$dB: pages idle after"
check "mock-pin:forced-range-let-go" wait_for bash -c "! grep -q ' : $dB\$' /proc/iomem"
check "mock-pin:forced-new-device-enables" daxctl enable-device "$dC"
check "mock-pin:forced-new-device-at" at_one "$dC" $((hpa0 + 48 * M))
check "mock-pin:device-refused-nothing" refused_none
check "mock-pin:forced-no-oops" oopsless

# another dax device of the region, for the teardown below
f2=$(mk 2M)
check "mock-pin:teardown-other-at" at_one "$f2" $((hpa0 + 56 * M))

# The host disables a dax device whose pages a pipe holds, and while the
# disable waits, the device forces its capacity out: the wait hands the
# memory map off and the disable completes, the pipe still held, and the
# engine does not wait for the disable.
offer "$(at 80*M):0x400000:0:0"
check "mock-pin:disable-forced-extent-added" wait_for has_off $((80 * M))
made mock-pin:disable-forced 4M $((80 * M))
dF=$dev
pin mock-pin:disable-forced "$dF" $((4 * M))
n0=$(lines)
# the driver's unbind itself: daxctl looks at the device again after it,
# and fails when the revoke deleted it meanwhile
echo "$dF" >/sys/bus/dax/drivers/device_dax/unbind 2>/tmp/pin-disable.out &
dis=$!
check "mock-pin:disable-forced-waits" wait_for said "$n0" "$dF: .* pages still referenced after .* s: waiting"
echo "$(at 80*M):0x400000" >"$pd/dc_force_del_extent"
check "mock-pin:disable-forced-hands-off" wait_for said "$n0" "$dF: .* pages still referenced: their memory map stays"
check "mock-pin:disable-forced-disable-returns" wait_for bash -c "! kill -0 $dis 2>/dev/null"
wait $dis
dis_rc=$?
sed 's/^/# /' /tmp/pin-disable.out
check "mock-pin:disable-forced-disable-completes" test $dis_rc = 0
check "mock-pin:disable-forced-extent-gone" wait_for lacks_off $((80 * M))
check "mock-pin:disable-forced-pipe-held" running $pin_pid
unpin mock-pin:disable-forced
check "mock-pin:disable-forced-says-idle" wait_for said "$n0" "$dF: pages idle after"
check "mock-pin:disable-forced-no-oops" oopsless

# The device forces out a tagged allocation of two extents, which one dax
# device claimed and a pipe holds pages of, by two records chained by
# More: the dax device goes at once, its memory map handed off as for one
# extent, and the engine goes on (neither extent waits for the pipe). The
# sequence numbers put the higher extent first in the device.
TAG=6d0c1f3a-4444-4b1e-8e2f-0123456789ab
tagged mock-pin:multi $TAG $((88 * M)) 1 $((92 * M)) 0
dM=$dev
check "mock-pin:multi-two-mappings" bash -c "$(declare -f nmappings maps_at); D=$D; [ \$(nmappings $dM) = 2 ] && maps_at $dM 0 $((hpa0 + 92 * M)) && maps_at $dM $((2 * M / 4096)) $((hpa0 + 88 * M))"
pin mock-pin:multi "$dM" $((4 * M))
n0=$(lines)
r0=$(stat release_cmds)
burst "$pd/dc_force_del_extent" "$(at 88*M):0x200000:$TAG:1" "$(at 92*M):0x200000:$TAG:0"
check "mock-pin:multi-revoked" wait_for said "$n0" "$dM: capacity revoked while enabled"
check "mock-pin:multi-handed-off" wait_for said "$n0" "$dM: .* pages still referenced: their memory map stays"
# handed off at once, not after its unbind waited (then the work item
# says it waits too)
check "mock-pin:multi-handed-off-first" bash -c "dmesg | tail -n +$((n0 + 1)) | grep '$dM: .* pages still referenced' | head -1 | grep -q 'memory map stays'"
check "mock-pin:multi-device-gone-while-pinned" wait_for test ! -e "$D/$dM"
check "mock-pin:multi-ranges-still-reserved" test "$(grep -c " : $dM\$" /proc/iomem)" = 2
check "mock-pin:multi-extents-gone-while-pinned" wait_for bash -c "$(declare -f has_off lacks_off hex); dax=$dax; lacks_off $((88 * M)) && lacks_off $((92 * M))"
# tagged, so that no dax device carved by size below takes it
offer "$(at 100*M):0x200000:6d0c1f3a-5555-4b1e-8e2f-0123456789ab:0:0"
check "mock-pin:multi-engine-goes-on-while-pinned" wait_for has_off $((100 * M))
# forced out: the host sends no Release DC for it
check "mock-pin:multi-no-release-dc" test "$(stat release_cmds)" = "$r0"
# the work item says what it waits for (10 s on), and idle only then
check "mock-pin:multi-says-it-waits" wait_for said "$n0" "$dM: .* pages still referenced after .* s: waiting"
check "mock-pin:multi-pipe-held" running $pin_pid
unpin mock-pin:multi
check "mock-pin:multi-says-idle" wait_for said "$n0" "$dM: pages idle after"
check "mock-pin:multi-range-let-go" wait_for bash -c "! grep -q ' : $dM\$' /proc/iomem"
check "mock-pin:multi-device-refused-nothing" refused_none
check "mock-pin:multi-no-oops" oopsless

# The device forces out one extent of two that a dax device uses, whose
# pages a pipe holds: the other extent stays, and could go back once the
# dax device is gone, so the dax device's unbind waits for the pipe (and
# the engine with it), and a release of the other extent the device asks
# for meanwhile waits too. Once the pipe lets go, the dax device goes,
# and the other extent is released.
TAGN=6d0c1f3a-6666-4b1e-8e2f-0123456789ab
tagged mock-pin:one $TAGN $((104 * M)) 0 $((108 * M)) 1
dN=$dev
pin mock-pin:one "$dN" $((4 * M))
n0=$(lines)
r0=$(stat release_cmds)
burst "$pd/dc_force_del_extent" "$(at 104*M):0x200000:$TAGN:0"
check "mock-pin:one-revoked" wait_for said "$n0" "$dN: capacity revoked while enabled"
# the engine waits: the release is read once it is done
echo "$(at 108*M):0x200000:$TAGN" >"$pd/dc_del_extent" &
rel=$!
check "mock-pin:one-waits" wait_for said "$n0" "$dN: .* pages still referenced after .* s: waiting"
check "mock-pin:one-not-handed-off" bash -c "! dmesg | tail -n +$((n0 + 1)) | grep -q '$dN: .* their memory map stays'"
check "mock-pin:one-device-keeps-other" dev_has $((108 * M)) $((2 * M))
check "mock-pin:one-other-not-released" test "$(stat release_cmds)" = "$r0"
unpin mock-pin:one
wait $rel
check "mock-pin:one-says-idle" wait_for said "$n0" "$dN: pages idle after"
check "mock-pin:one-device-gone" wait_for test ! -e "$D/$dN"
check "mock-pin:one-forced-gone" wait_for lacks_off $((104 * M))
check "mock-pin:one-other-released" wait_for lacks_off $((108 * M))
check "mock-pin:one-device-took-other" wait_for bash -c "! grep -q '^$(at 108*M):' $pd/dc_accepted_extents"
check "mock-pin:one-one-release-dc" test "$(stat release_cmds)" = $((r0 + 1))
check "mock-pin:one-device-refused-nothing" refused_none
check "mock-pin:one-no-oops" oopsless

# The host takes the region down while a pipe holds pages of one of its
# dax devices: the teardown stops every dax device of the region at once
# (a mapping of another one faults), refuses new ones, and waits for the
# pipe, saying so, off the engine: the device's DC events go on (an offer
# in the region is answered, rejected), and a release of what the pipe
# holds waits.  Once the pipe lets go, the region goes and the release
# completes.
offer "$(at 64*M):0x400000:0:0"
check "mock-pin:teardown-extent-added" wait_for has_off $((64 * M))
made mock-pin:teardown 4M $((64 * M))
dE=$dev
rm -f /tmp/hold-go
$MAP "/dev/$f2" $((2 * M)) hold /tmp/hold-go >/tmp/hold-f.out 2>&1 &
hold=$!
check "mock-pin:teardown-other-mapped" wait_for grep -q mapped /tmp/hold-f.out
pin mock-pin:teardown "$dE" $((4 * M))
n0=$(lines)
echo "$region" >/sys/bus/cxl/drivers/cxl_region/unbind 2>/tmp/pin-unbind.err &
ub=$!
check "mock-pin:teardown-says-it-waits" wait_for said "$n0" "$dE: .* pages still referenced after .* s: waiting"
check "mock-pin:teardown-waits" running $ub
out=$( { echo 1 >"$dax/dax_region/create"; } 2>&1)
check "mock-pin:teardown-no-new-device" test -n "$(echo "$out" | grep 'No such device or address')"
# a delete written meanwhile is refused as the region goes, rather than
# waiting for the region's lock (it would hold up the teardown)
out=$(timeout 20 bash -c "echo $f2 >$dax/dax_region/delete" 2>&1)
rc=$?
echo "# delete: rc $rc: $out"
check "mock-pin:teardown-delete-refused" test $rc = 1 -a -n "$(echo "$out" | grep 'No such device or address')"
touch /tmp/hold-go
wait $hold
hs=$?
sed 's/^/# /' /tmp/hold-f.out
check "mock-pin:teardown-other-stopped" test "$hs" != 0 -a -z "$(grep touched /tmp/hold-f.out)"
# capacity forced out of the going region: the engine lets go of it
# without the region's lock, the detach deletes what it left
echo "$(at 56*M):0x200000" >"$pd/dc_force_del_extent"
check "mock-pin:teardown-forced-acted-on" wait_for said "$n0" "forced release of DC $(at 56*M)-$(hex $((dpa0 + 58 * M - 1)))"
r0=$(stat responses)
offer "$(at 72*M):0x200000:0:0"
check "mock-pin:teardown-engine-goes-on" wait_for bash -c "[ \$(awk '\$1 == \"responses\" { print \$2 }' $pd/dc_stats) -gt $r0 ]"
check "mock-pin:teardown-offer-rejected" bash -c "! grep -q '^$(at 72*M):' $pd/dc_accepted_extents"
echo "$(at 64*M):0x400000" >"$pd/dc_del_extent"
check "mock-pin:teardown-release-waits" wait_for said "$n0" "release of DC $(at 64*M)-$(hex $((dpa0 + 68 * M - 1))) waits for its users"
check "mock-pin:teardown-device-keeps" dev_has $((64 * M)) $((4 * M))
sleep 2
check "mock-pin:teardown-device-still-keeps" dev_has $((64 * M)) $((4 * M))
unpin mock-pin:teardown
wait $ub
check "mock-pin:teardown-completes" test $? = 0
check "mock-pin:teardown-says-idle" wait_for said "$n0" "$dE: pages idle after"
check "mock-pin:teardown-device-took-it" wait_for bash -c "! grep -q '^$(at 64*M):' $pd/dc_accepted_extents"
check "mock-pin:teardown-device-refused-nothing" refused_none
check "mock-pin:teardown-no-oops" oopsless

echo 'file extent.c -p' >/proc/dynamic_debug/control
check "mock-pin:region-destroyed" $H destroy "$region"
check "mock-pin:reload-without-dcd" reload
done_testing
