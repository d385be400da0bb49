# shellcheck shell=bash
# Helpers for guest tests of one DC region on cxl_test (cxl_mock_mem dcd=1).
# Source after ktap.sh; call dc_mock_region NAME first, which creates the
# region and sets rid, dax (the DAX region device), pd (the mock's platform
# device), dpa0 and hpa0 (the region's first DPA and HPA), or ends the test.
H=/lab/tests/guest/lib/dc-region
MAP=/lab/tests/guest/lib/dax-map
C=/sys/bus/cxl/devices
D=/sys/bus/dax/devices
M=$((1 << 20))

reload() {
	modprobe -r cxl_test && modprobe -r cxl_mock_mem &&
		modprobe cxl_mock_mem "$@" && /lab/tests/guest/lib/load-cxl-test
}
hex() { printf '%#x' "$(($1))"; }
wait_for() {
	local i
	for i in $(seq 300); do "$@" && return 0; sleep 0.2; done
	return 1
}
# stat KEY: the mock's dc_stats counter
stat() { awk -v k="$1" '$1 == k { print $2 }' "$pd/dc_stats"; }
# refusals: the DC commands of the host the device refused (the mock
# checks each as the spec says a device does, and counts them by command
# once the command is done: order_errors and release_rejects, counted as
# it refuses, are in too); nothing when a counter is missing
refusals() {
	awk '$1 == "refused" || $1 == "order_errors" || $1 == "release_rejects" { n += $2; seen++ }
	     END { if (seen == 3) print n }' "$pd/dc_stats"
}
# refused_none: the device refused nothing; says what otherwise
refused_none() {
	[ "$(refusals)" = 0 ] && return 0
	grep -E '^(refused|order_errors|release_rejects)' "$pd/dc_stats" | sed 's/^/# /'
	dmesg | grep -E 'DC mock|DC log' | tail -n 5 | sed 's/^/# /'
	return 1
}
at() { hex $((dpa0 + $1)); }
# burst FILE LINE...: the lines written to FILE in one write
burst() { local f=$1; shift; printf '%s\n' "$@" | python3 -c 'import os, sys; d = sys.stdin.buffer.read(); fd = os.open(sys.argv[1], os.O_WRONLY); assert os.write(fd, d) == len(d)' "$f"; }
# offer LINE...: records for the mock to log, in one write (one burst)
offer() { burst "$pd/dc_inject_extent" "$@"; }
# dev_has OFFSET LEN: the device lists the extent as accepted
dev_has() { grep -q "^$(at "$1"):$(hex "$2"):" "$pd/dc_accepted_extents"; }
# mk SIZE: a dax device carved by size with daxctl (enabled), its name
mk() { daxctl create-device -r "$rid" -s "$1" 2>/dev/null | sed -n 's/.*"chardev":"\(dax[0-9.]*\)".*/\1/p' | head -1; }
# new_seed: an empty dax device of the region (created when there is none)
new_seed() { echo 1 >"$dax/dax_region/create" 2>/dev/null; cat "$dax/dax_region/seed"; }
nmappings() { ls -d "$D/$1"/mapping[0-9]* 2>/dev/null | wc -l; }
# maps_at DEV PGOFF HPA: the device's mapping at page offset PGOFF starts there
maps_at() {
	local m
	for m in "$D/$1"/mapping[0-9]*; do
		[ -e "$m" ] || continue
		[ $(($(cat "$m/page_offset"))) = $(($2)) ] && { [ $(($(cat "$m/start"))) = $(($3)) ]; return; }
	done
	return 1
}
# first_at DEV HPA: the device's page offset 0 is there
first_at() { maps_at "$1" 0 "$2"; }

# dc_mock_region NAME: reload the mock with DC, create a region in its
# first DC partition (ok/not ok NAME:reload-with-dcd, NAME:dc-region-created)
dc_mock_region() {
	local dec
	check "$1:reload-with-dcd" reload dcd=1
	if ! read -r m region < <($H create-any 1 2>/tmp/dc-region.err) || [ -z "$region" ]; then
		sed 's/^/# /' /tmp/dc-region.err
		not_ok "$1:dc-region-created"
		done_testing
	fi
	ok "$1:dc-region-created"
	rid=${region#region}
	dax=$C/$region/dax_region$rid
	pd=/sys/bus/platform/devices/$(basename "$(readlink -f "$C/$m/..")")
	dec=$(cat "$C/$region/target0")
	dpa0=$(($(cat "$C/$dec/dpa_resource")))
	hpa0=$(($(cat "$C/$region/resource")))
	echo "# $m $region DPA $(hex $dpa0) HPA $(hex $hpa0)"
}
