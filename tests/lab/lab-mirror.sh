#!/bin/bash
# The lab takes its Debian mirror from the host's apt configuration (or
# $DCD_LAB_MIRROR) and names none itself.  Runs on the host (lab/check's
# "lab" phase), against made-up apt configurations.
. "$(dirname "$0")/../guest/lib/ktap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# mirror ETC: what lab_mirror says for an apt configuration under ETC
mirror() {
	LAB_APT_ETC=$1 DCD_LAB_MIRROR=${2:-} bash -c 'source "$1/lab/lib.sh"; lab_mirror' _ "$top" 2>&1
}
# is NAME WANT GOT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else echo "# want '$2', got '$3'"; not_ok "$1"; fi
}

e=$tmp/deb822
mkdir -p "$e/sources.list.d"
cat >"$e/sources.list.d/debian.sources" <<'SRC'
Types: deb
URIs: http://mirror.example.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
# a comment
URIs: http://mirror.example.invalid/debian/ http://other.example.invalid/debian
Suites: bookworm bookworm-updates
Components: main
SRC
is deb822-main-archive "http://mirror.example.invalid/debian" "$(mirror "$e")"

e=$tmp/list
mkdir -p "$e"
cat >"$e/sources.list" <<'SRC'
# deb http://commented.example.invalid/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://local.example.invalid:3142/debian bookworm-security main
deb [arch=amd64] http://local.example.invalid:3142/debian bookworm main
SRC
is sources-list-with-options "http://local.example.invalid:3142/debian" "$(mirror "$e")"

is override-wins "http://proxy.example.invalid/debian" "$(mirror "$tmp/deb822" http://proxy.example.invalid/debian/)"

mkdir -p "$tmp/none"
out=$(mirror "$tmp/none") && rc=0 || rc=$?
if [ $rc != 0 ] && grep -q DCD_LAB_MIRROR <<<"$out"; then
	ok no-mirror-is-an-error-naming-the-override
else
	echo "# rc=$rc: $out"; not_ok no-mirror-is-an-error-naming-the-override
fi

# the lab names no mirror host: every URL the lab writes comes from lab_mirror
host='deb''\.debian\.org|ftp\.[a-z.]*debian|debian\.(net|org)/debian|https?://[^ "]*/debian([/ "]|$)'
found=$(git -C "$top" grep -n -I -E "$host" -- . ':!bench' 2>/dev/null | grep -v '^tests/lab/lab-mirror.sh:' || true)
if [ -z "$found" ]; then ok no-mirror-in-the-repo; else echo "$found" | sed 's/^/# /'; not_ok no-mirror-in-the-repo; fi
done_testing
