# shellcheck shell=bash
# Common helpers for the lab scripts.  Source it; do not run it.
#
# Everything expensive lives in one cache directory outside the clone
# ($DCD_LAB_CACHE, default /var/cache/dcd-lab) so that a fresh clone, CI's
# included, reuses it.  The clone itself only gets build/ (ignored by git).

set -euo pipefail

LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_CACHE=${DCD_LAB_CACHE:-/var/cache/dcd-lab}
LAB_BUILD=$LAB_TOP/build
LAB_ROOT=$LAB_CACHE/root/trixie		# guest root, also where QEMU runs
LAB_JOBS=${LAB_JOBS:-$(($(nproc) + 1))}
export LAB_TOP LAB_CACHE LAB_BUILD LAB_ROOT LAB_JOBS
export CCACHE_DIR=${CCACHE_DIR:-$LAB_CACHE/ccache}

: "${LAB_T0:=$(date +%s)}"
export LAB_T0

# One progress line per stage: "[  12s] stage: text"
stage() {
	local now
	now=$(date +%s)
	printf '[%5ss] %s\n' "$((now - LAB_T0))" "$*"
}

die() {
	printf 'lab: error: %s\n' "$*" >&2
	exit 1
}

# apt with the lab's own sources for the newer suites.  It never touches the
# host's sources or its package state: it only downloads into the cache.
LAB_APT_DIR=$LAB_CACHE/apt
lab_apt() {
	local cmd=$1
	shift
	mkdir -p "$LAB_APT_DIR"/lists/partial "$LAB_APT_DIR"/archives/partial
	cat >"$LAB_APT_DIR/sources.list" <<-SRC
	deb http://deb.debian.org/debian trixie main
	deb http://deb.debian.org/debian trixie-backports main
	deb-src http://deb.debian.org/debian trixie main
	SRC
	"$cmd" -q -o Dir::Etc::SourceList="$LAB_APT_DIR/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$LAB_APT_DIR/lists" \
		-o Dir::State::Status=/dev/null \
		-o Dir::Cache="$LAB_APT_DIR" \
		-o Dir::Cache::Archives="$LAB_APT_DIR/archives" \
		-o APT::Sandbox::User=root "$@"
}

# The same for single tools that only Debian unstable has new enough (sparse):
# their own lists, so sid never becomes a candidate for anything else.
lab_apt_sid() {
	local cmd=$1 d=$LAB_APT_DIR/sid
	shift
	mkdir -p "$d"/lists/partial "$d"/archives/partial
	echo "deb http://deb.debian.org/debian sid main" >"$d/sources.list"
	"$cmd" -q -o Dir::Etc::SourceList="$d/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$d/lists" \
		-o Dir::State::Status=/dev/null -o Dir::Cache="$d" \
		-o Dir::Cache::Archives="$d/archives" -o APT::Sandbox::User=root "$@"
}

# Refresh the lab's package lists at most once a day.
lab_apt_update() {
	local stamp=$LAB_APT_DIR/lists/.updated
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		lab_apt apt-get update >/dev/null
		touch "$stamp"
	fi
}

# Run a command in a private mount namespace: every mount it makes goes away
# with it, so no bind mount can outlive a run and pin a tree being deleted.
in_mntns() {
	unshare --mount --propagation private "$@"
}

# The kernel is built from a mirror of build/linux in the cache (see
# lab/build-kernel); kmake runs make there, into the output dir $KOUT.
LAB_KSRC=$LAB_CACHE/kbuild/src
kmake() {
	make -C "$LAB_KSRC" O="$KOUT" CC="ccache gcc" -j"$LAB_JOBS" "$@"
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# True when build/linux is clean and its commits export to exactly
# kernel/series and kernel/patches.
tree_matches_series() {
	local tmp rc=0
	tmp=$(mktemp -d)
	"$LAB_TOP/lab/export" --to "$tmp" >/dev/null 2>&1 || rc=1
	[ $rc = 1 ] || diff -rqN "$tmp/series" "$LAB_TOP/kernel/series" >/dev/null 2>&1 || rc=1
	[ $rc = 1 ] || diff -rqN "$tmp/patches" "$LAB_TOP/kernel/patches" >/dev/null 2>&1 || rc=1
	rm -rf "$tmp"
	return $rc
}
