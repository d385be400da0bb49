#!/bin/bash
# Sparse dax regions over cxl_test Dynamic Capacity (cxl_mock_mem dcd=1):
# dax devices carved from extents by size with the stock daxctl, claimed by
# tag through daxX.Y/uuid, resized and destroyed; a release of capacity in
# use waits for the dax device, a forced release kills it (SIGBUS for a
# process that has it mapped).  cxl_test's windows are not backed by memory,
# so data written through a mapping is checked on QEMU (test_dcd1_dax).
# The mock is reloaded without dcd at the end.
. /lab/tests/guest/lib/ktap.sh
. /lab/tests/guest/lib/dc-mock.sh
PRE_TAG=dcd0dcd0-0000-0000-0000-000000000001
TAG=5e7a9c4e-2222-4d2a-9c6b-0123456789ab
# has_extent OFFSET LEN: the region shows the extent
has_extent() { grep -qx "$(hex "$1")" $(ls "$dax"/extent*/offset 2>/dev/null | while read -r f; do [ "$(cat "${f%/offset}/length")" = "$(hex "$2")" ] && echo "$f"; done) /dev/null; }
lacks_extent() { [ -d "$dax" ] && ! grep -qx "$(hex "$1")" "$dax"/extent*/offset 2>/dev/null; }
avail() { cat "$dax/dax_region/available_size"; }
size_of() { cat "$D/$1/size"; }
# write_attr ATTR VALUE ERRNO-TEXT: the write fails with that error
write_fails() {
	local out
	out=$( { echo "$2" >"$1"; } 2>&1) && { echo "write of $2 to $1 succeeded"; return 1; }
	echo "$out" | grep -q "$3" || { echo "$out"; return 1; }
}
idle() { [ "$(stat pending_groups)" = 0 ]; }

dc_mock_region mock-dax
dmesg -C
# the engine says when a release waits for its users (positive evidence
# that it looked, rather than a sleep)
echo 'file extent.c +p' >/proc/dynamic_debug/control
# waits START LEN: the engine logged that the release of that DPA waits
waits() { dmesg | grep -q "release of DC $(at "$1")-$(hex $((dpa0 + $1 + $2 - 1))) waits for its users"; }

# The mock's pre-accepted extents: 2M untagged at 0, 4M tagged at 8M
check "mock-dax:dax-region-bound" wait_for test -e "$dax/dax_region/available_size"
check "mock-dax:seed-starts-empty" test "$(size_of dax$rid.0)" = 0 -a "$(cat "$dax/dax_region/seed")" = dax$rid.0
# available_size is what a device can be given by size: the free untagged
# extents, not the tagged 4M that waits for its claim
check "mock-dax:available-is-free-untagged-extents" test "$(avail)" = $((2 * M))

# Two untagged extents come: 4M at 16M and 4M at 32M
offer "$(at 16*M):0x400000:0:1" "$(at 32*M):0x400000:0:0"
check "mock-dax:extents-added" wait_for has_extent $((32 * M)) $((4 * M))
check "mock-dax:available-follows-extents" test "$(avail)" = $((10 * M))
# each extent shows in /proc/iomem by name, under the region
iomem_has() { grep -qE "^ *$(printf '%x' $((hpa0 + $1)))-.* : extent$rid\.[0-9]+$" /proc/iomem; }
check "mock-dax:extent-in-iomem" iomem_has $((32 * M))

# By size with the stock daxctl: 6M is the 2M extent and the one at 16M
out=$(daxctl create-device -r "$rid" -s 6M 2>&1)
dev=$(echo "$out" | sed -n 's/.*"chardev":"\(dax[0-9.]*\)".*/\1/p' | head -1)
echo "$out" | sed 's/^/# /'
check "mock-dax:create-by-size-across-extents" test -n "$dev" -a "$(size_of "$dev")" = $((6 * M)) -a "$(nmappings "$dev")" = 2
check "mock-dax:create-by-size-order" first_at "$dev" $hpa0
check "mock-dax:available-after-create" test "$(avail)" = $((4 * M))

# More than is free: ENOSPC; the 8M free are 4M untagged and 4M tagged,
# and tagged capacity is not handed out by size
seed=$(new_seed)
check "mock-dax:enospc" write_fails "$D/$seed/size" $((16 * M)) "No space left"
check "mock-dax:tagged-not-by-size" write_fails "$D/$seed/size" $((8 * M)) "No space left"
check "mock-dax:enospc-changes-nothing" test "$(size_of "$seed")" = 0 -a "$(avail)" = $((4 * M))
check "mock-dax:enospc-daxctl" bash -c "! daxctl create-device -r $rid -s 8M"
check "mock-dax:mapping-refused" write_fails "$D/$seed/mapping" "$(hex $hpa0)-$(hex $((hpa0 + 2 * M - 1)))" "not supported"

# Resize down and up with daxctl (across all three untagged extents)
daxctl disable-device "$dev" >/dev/null 2>&1
check "mock-dax:resize-down" bash -c "daxctl reconfigure-device -s 2M $dev && test \$(cat $D/$dev/size) = $((2 * M))"
check "mock-dax:resize-up" bash -c "daxctl reconfigure-device -s 10M $dev && test \$(cat $D/$dev/size) = $((10 * M)) -a \$(ls -d $D/$dev/mapping[0-9]* | wc -l) = 3"
check "mock-dax:resize-back" bash -c "daxctl reconfigure-device -s 6M $dev && daxctl enable-device $dev && test \$(cat $D/$dev/size) = $((6 * M))"

# fsdev_dax (famfs) takes a sparse device too
F=/sys/bus/dax/drivers/fsdev_dax
if modprobe fsdev_dax 2>/dev/null && [ -d $F ]; then
	daxctl disable-device "$dev" >/dev/null 2>&1
	check "mock-dax:fsdev-binds" bash -c "echo $dev > $F/new_id && test \$(basename \$(readlink -f $D/$dev/driver)) = fsdev_dax"
	echo "$dev" >$F/unbind; echo "$dev" >$F/remove_id
	check "mock-dax:fsdev-unbound-back-to-devdax" daxctl enable-device "$dev"
else
	skip "mock-dax:fsdev-binds" "no fsdev_dax driver in this kernel"
fi

# "0": one whole untagged extent (the 4M at 32M is the only free one)
seed=$(new_seed)
check "mock-dax:claim-untagged-extent" bash -c "echo 0 > $D/$seed/uuid && test \$(cat $D/$seed/size) = $((4 * M))"
zdev=$seed
daxctl enable-device "$zdev" >/dev/null 2>&1
# nothing is left by size, yet a device can still be made to claim a tag
check "mock-dax:only-tagged-free-available-0" test "$(avail)" = 0
check "mock-dax:create-while-only-tagged-free" bash -c "echo 1 > $dax/dax_region/create"
seed=$(cat "$dax/dax_region/seed")
check "mock-dax:claim-untagged-none-free" write_fails "$D/$seed/uuid" 0 "No space left"

# By tag: nothing matches, the pre-accepted allocation, a group in seq order
check "mock-dax:claim-unknown-tag-enoent" write_fails "$D/$seed/uuid" $TAG "No such file"
check "mock-dax:claim-enoent-stays-empty" test "$(size_of "$seed")" = 0
check "mock-dax:claim-bad-uuid-einval" write_fails "$D/$seed/uuid" "not-a-uuid" "Invalid argument"
check "mock-dax:claim-tag" bash -c "echo $PRE_TAG > $D/$seed/uuid && test \$(cat $D/$seed/size) = $((4 * M)) -a \$(cat $D/$seed/uuid) = $PRE_TAG"
tagdev=$seed
check "mock-dax:claimed-not-resized" write_fails "$D/$tagdev/size" $((2 * M)) "Invalid argument"
check "mock-dax:claimed-device-enabled" daxctl enable-device "$tagdev"
offer "$(at 48*M):0x200000:$TAG:1:1" "$(at 56*M):0x200000:$TAG:0:0"
check "mock-dax:tagged-group-added" wait_for has_extent $((56 * M)) $((2 * M))
seed=$(new_seed)
check "mock-dax:claim-taken-tag-ebusy" write_fails "$D/$seed/uuid" $PRE_TAG "Device or resource busy"
check "mock-dax:claim-tag-seq-order" bash -c "echo $TAG > $D/$seed/uuid && test \$(cat $D/$seed/size) = $((4 * M)) && $(declare -f first_at maps_at); D=$D first_at $seed $((hpa0 + 56 * M))"
daxctl enable-device "$seed" >/dev/null 2>&1

# A dense region's dax device has no tags to claim
dense=""
for d in "$D"/dax*; do
	case $(readlink -f "$d") in */dax_region$rid/*) ;; *) dense=${d##*/}; break ;; esac
done
if [ -n "$dense" ]; then
	check "mock-dax:claim-on-dense-region-eopnotsupp" write_fails "$D/$dense/uuid" 0 "not supported"
else
	skip "mock-dax:claim-on-dense-region-eopnotsupp" "no dense dax region in the mock"
fi

# The stock tools still parse the topology
check "mock-dax:daxctl-list-parses" bash -c "daxctl list -RDM -r $rid | python3 -c 'import json, sys; r = json.load(sys.stdin); assert r[0][\"id\"] == $rid and r[0][\"devices\"], r'"
check "mock-dax:cxl-list-parses" bash -c "cxl list -R -r $region -X | python3 -c 'import json, sys; json.load(sys.stdin)'"

# Release of capacity in use waits for the dax device; destroy completes it
echo "$(at 16*M):0x400000" >"$pd/dc_del_extent"
check "mock-dax:release-in-use-waits" wait_for waits $((16 * M)) $((4 * M))
check "mock-dax:release-in-use-deferred" bash -c "$(declare -f has_extent hex dev_has at); dax=$dax pd=$pd dpa0=$dpa0; has_extent $((16 * M)) $((4 * M)) && dev_has $((16 * M)) $((4 * M))"
check "mock-dax:destroy-device" bash -c "daxctl disable-device $dev && daxctl destroy-device $dev"
check "mock-dax:release-completes-after-destroy" wait_for lacks_extent $((16 * M))
check "mock-dax:device-took-it-back" bash -c "! grep -q '^$(at 16*M):' $pd/dc_accepted_extents"

# Forced release while a process has the tagged device mapped
rm -f /tmp/dax-go
$MAP "/dev/$tagdev" $((4 * M)) hold /tmp/dax-go >/tmp/dax-map.out 2>&1 &
pid=$!
check "mock-dax:mapped" wait_for grep -q mapped /tmp/dax-map.out
echo "$(at 8*M):0x400000" >"$pd/dc_force_del_extent"
check "mock-dax:forced-release-removes-extent" wait_for lacks_extent $((8 * M))
check "mock-dax:forced-release-kills-device" wait_for test ! -e "$D/$tagdev"
touch /tmp/dax-go
wait $pid
rc=$?
check "mock-dax:sigbus-after-revoke" test $rc = $((128 + 7))
check "mock-dax:forced-release-device-view" bash -c "! grep -q '^$(at 8*M):' $pd/dc_accepted_extents"

# Forced and partial releases cut only what they name: the dax devices
# over the rest of the extent keep it, a release waits only for the users
# of its part, and what is left of a tagged allocation is still claimed.
# dev_covers OFFSET: an extent the device has accepted holds that offset
dev_covers() {
	local d l rest
	while IFS=: read -r d l rest; do
		[ $((dpa0 + $1)) -ge $((d)) ] && [ $((dpa0 + $1)) -lt $((d + l)) ] && return 0
	done <"$pd/dc_accepted_extents"
	return 1
}
bound() { [ -e "$D/$1/driver" ]; }
offer "$(at 64*M):0x800000:0:0"
check "mock-dax:cut-extent-added" wait_for has_extent $((64 * M)) $((8 * M))
d0=$(mk 2M) dA=$(mk 2M) dB=$(mk 4M) dC=$(mk 2M)
check "mock-dax:cut-three-users" bash -c "$(declare -f first_at maps_at); D=$D; first_at $dA $((hpa0 + 64 * M)) && first_at $dB $((hpa0 + 66 * M)) && first_at $dC $((hpa0 + 70 * M))"
r0=$(stat release_cmds)
echo "$(at 68*M):0x200000" >"$pd/dc_force_del_extent"
check "mock-dax:forced-part-kills-its-user" wait_for test ! -e "$D/$dB"
# a forced release is not answered: no Release DC for what was forced
check "mock-dax:forced-part-no-release-dc" test "$(stat release_cmds)" = "$r0"
check "mock-dax:forced-part-spares-the-rest" bash -c "$(declare -f bound); D=$D; bound $dA && bound $dC && test \$(cat $D/$dA/size) = $((2 * M)) -a \$(cat $D/$dC/size) = $((2 * M))"
check "mock-dax:forced-part-extents" bash -c "$(declare -f has_extent lacks_extent hex); dax=$dax; has_extent $((64 * M)) $((4 * M)) && has_extent $((70 * M)) $((2 * M)) && lacks_extent $((68 * M))"
# the part dB left is free: its release goes at once, beside dA, in one
# Release DC naming it alone
r0=$(stat release_cmds) x0=$(stat released)
echo "$(at 66*M):0x200000" >"$pd/dc_del_extent"
check "mock-dax:release-part-beside-user" wait_for bash -c "$(declare -f dev_covers dev_has hex at); pd=$pd dpa0=$dpa0; dev_has $((64 * M)) $((2 * M)) && ! dev_covers $((66 * M))"
check "mock-dax:release-part-one-release-dc" test "$(stat release_cmds)" = $((r0 + 1)) -a "$(stat released)" = $((x0 + 1))
check "mock-dax:release-part-host" bash -c "$(declare -f has_extent lacks_extent hex); dax=$dax; has_extent $((64 * M)) $((2 * M)) && lacks_extent $((66 * M))"
check "mock-dax:release-part-user-kept" bound "$dA"
# two users of one extent: a release of one's part waits for it only
# (a device takes all that is free first, so that they share the extent)
[ "$(avail)" = 0 ] || mk "$(avail)" >/dev/null
check "mock-dax:wait-nothing-else-free" test "$(avail)" = 0
offer "$(at 80*M):0x400000:0:0"
check "mock-dax:wait-extent-added" wait_for has_extent $((80 * M)) $((4 * M))
dF=$(mk 2M) dG=$(mk 2M)
check "mock-dax:wait-two-users" bash -c "$(declare -f first_at maps_at); D=$D; first_at $dF $((hpa0 + 80 * M)) && first_at $dG $((hpa0 + 82 * M))"
r0=$(stat release_cmds) x0=$(stat released)
echo "$(at 82*M):0x200000" >"$pd/dc_del_extent"
check "mock-dax:release-part-waits" wait_for waits $((82 * M)) $((2 * M))
check "mock-dax:release-part-in-use-waits" bash -c "$(declare -f has_extent hex dev_has at); dax=$dax pd=$pd dpa0=$dpa0; has_extent $((80 * M)) $((4 * M)) && dev_has $((80 * M)) $((4 * M))"
daxctl disable-device "$dG" >/dev/null 2>&1 && daxctl destroy-device "$dG" >/dev/null 2>&1
check "mock-dax:release-part-after-its-user" wait_for bash -c "$(declare -f dev_covers dev_has hex at); pd=$pd dpa0=$dpa0; dev_has $((80 * M)) $((2 * M)) && ! dev_covers $((82 * M))"
check "mock-dax:release-part-other-user-kept" bash -c "$(declare -f bound has_extent hex); D=$D dax=$dax; bound $dF && has_extent $((80 * M)) $((2 * M))"
check "mock-dax:release-part-after-one-release-dc" test "$(stat release_cmds)" = $((r0 + 1)) -a "$(stat released)" = $((x0 + 1))
# a tagged allocation of two extents loses the middle of its first: the
# rest is claimed whole, in order
TAG2=5e7a9c4e-3333-4d2a-9c6b-0123456789ab
offer "$(at 96*M):0x600000:$TAG2:1:0" "$(at 104*M):0x400000:$TAG2:0:1"
check "mock-dax:cut-tag-added" wait_for has_extent $((104 * M)) $((4 * M))
echo "$(at 98*M):0x200000" >"$pd/dc_force_del_extent"
check "mock-dax:cut-tag-forced" wait_for has_extent $((100 * M)) $((2 * M))
seed=$(new_seed)
check "mock-dax:cut-tag-claimed" bash -c "echo $TAG2 > $D/$seed/uuid && test \$(cat $D/$seed/size) = $((8 * M)) && $(declare -f first_at maps_at); D=$D first_at $seed $((hpa0 + 96 * M))"
# in address order within the cut extent, then by sequence number
P=$((2 * M / 4096))
check "mock-dax:cut-tag-order" bash -c "$(declare -f maps_at); D=$D; maps_at $seed $P $((hpa0 + 100 * M)) && maps_at $seed $((2 * P)) $((hpa0 + 104 * M))"
daxctl enable-device "$seed" >/dev/null 2>&1

# a Release DC the device refuses after the host cut an extent in use:
# the device still lists the extent whole, which is what the host has
# end to end; the user of the rest keeps it, the piece shows again, and
# the device's next request takes it
offer "$(at 112*M):0x400000:0:0"
check "mock-dax:refused-extent-added" wait_for has_extent $((112 * M)) $((4 * M))
dH=$(mk 2M)
check "mock-dax:refused-user" bash -c "$(declare -f first_at maps_at); D=$D; first_at $dH $((hpa0 + 112 * M))"
f0=$(stat faults)
echo "4803 invalid" >"$pd/dc_mbox_fault"
echo "$(at 114*M):0x200000" >"$pd/dc_del_extent"
check "mock-dax:refused-release-failed" wait_for bash -c "$(declare -f stat has_extent hex); pd=$pd dax=$dax; [ \$(stat faults) = $((f0 + 1)) ] && has_extent $((114 * M)) $((2 * M))"
check "mock-dax:refused-user-kept" bash -c "$(declare -f bound has_extent hex dev_has at); D=$D dax=$dax pd=$pd dpa0=$dpa0; bound $dH && has_extent $((112 * M)) $((2 * M)) && dev_has $((112 * M)) $((4 * M))"
echo "$(at 114*M):0x200000" >"$pd/dc_del_extent"
check "mock-dax:refused-then-released" wait_for bash -c "$(declare -f dev_covers dev_has hex at); pd=$pd dpa0=$dpa0; dev_has $((112 * M)) $((2 * M)) && ! dev_covers $((114 * M))"

# Views agree: every extent of the region is what the device has accepted
views() {
	local h d f
	h=$(for f in "$dax"/extent*/offset; do [ -e "$f" ] && printf '%#x:%s\n' $((dpa0 + $(cat "$f"))) "$(cat "${f%/offset}/length")"; done | sort)
	d=$(while IFS=: read -r a l _; do [ $((a)) -ge $dpa0 ] && printf '%#x:%s\n' $((a)) "$l"; done <"$pd/dc_accepted_extents" | sort)
	[ "$h" = "$d" ] || { echo "host: $h"; echo "device: $d"; return 1; }
}
check "mock-dax:views-agree" wait_for views
check "mock-dax:device-refused-nothing" refused_none
check "mock-dax:no-warnings" bash -c "! dmesg | grep -E 'WARNING|BUG|Call Trace'"

echo 'file extent.c -p' >/proc/dynamic_debug/control

# Tear down: dax devices first, then the region
for d in "$D"/dax$rid.*; do daxctl disable-device "${d##*/}" >/dev/null 2>&1; daxctl destroy-device "${d##*/}" >/dev/null 2>&1; done
check "mock-dax:region-destroyed" $H destroy "$region"
check "mock-dax:reload-without-dcd" reload
done_testing
