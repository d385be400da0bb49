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

# The Debian mirror the lab downloads from: $DCD_LAB_MIRROR if set, else the
# main archive the host's apt uses (deb822 .sources first, then
# sources.list), so a host behind a local mirror needs no change here.  No
# mirror is written in the repo.  Its proxy, if apt has one, is exported for
# the tools that do not read apt's configuration (debootstrap, curl).
lab_mirror() {
	local uri="${DCD_LAB_MIRROR:-}" f
	if [ -z "$uri" ]; then
		for f in "${LAB_APT_ETC:-/etc/apt}"/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			# the first deb stanza with a release suite (no -security,
			# -updates): the main archive
			uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
				{
					t = u = s = ""
					for (i = 1; i <= NF; i++) {
						if ($i ~ /^Types:/) t = $i
						if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u); sub(/[ \t].*/, "", u) }
						if ($i ~ /^Suites:/) s = $i
					}
					if (t ~ /[ \t]deb([ \t]|$)/ && u != "" && s ~ /:([ \t]+[a-z]+)*[ \t]+[a-z]+([ \t]|$)/) { print u; exit }
				}' "$f")
			[ -z "$uri" ] || break
		done
	fi
	if [ -z "$uri" ] && [ -f "${LAB_APT_ETC:-/etc/apt}/sources.list" ]; then
		uri=$(awk '$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
				if ($(i + 1) !~ /[^a-z]/) { print $i; exit }
			}' "${LAB_APT_ETC:-/etc/apt}/sources.list")
	fi
	[ -n "$uri" ] || die "no Debian mirror in the host's apt sources; set DCD_LAB_MIRROR"
	echo "${uri%/}"
}

lab_proxy_env() {
	local p
	p=$(apt-config dump Acquire::http::Proxy 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p')
	if [ -n "$p" ] && [ -z "${http_proxy:-}" ]; then
		export http_proxy=$p
	fi
	return 0
}

# apt with the lab's own sources for the newer suites.  It never touches the
# host's sources or its package state: it only downloads into the cache.
LAB_APT_DIR=$LAB_CACHE/apt
lab_apt() {
	local cmd=$1 m
	shift
	m=$(lab_mirror)
	mkdir -p "$LAB_APT_DIR"/lists/partial "$LAB_APT_DIR"/archives/partial
	cat >"$LAB_APT_DIR/sources.list" <<-SRC
	deb $m trixie main
	deb $m trixie-backports main
	deb-src $m trixie main
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
	local cmd=$1 d=$LAB_APT_DIR/sid m
	shift
	m=$(lab_mirror)
	mkdir -p "$d"/lists/partial "$d"/archives/partial
	echo "deb $m sid main" >"$d/sources.list"
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

# ndctl 81, Debian's pinned orig tarball, as a one-commit repository in the
# cache (branch base); prints its path
ndctl_base_repo() {
	# shellcheck source=../ndctl/BASE
	. "$LAB_TOP/ndctl/BASE"
	local dir=$LAB_CACHE/ndctl url got repo
	repo=$dir/base-$version.git
	mkdir -p "$dir"
	if [ ! -f "$dir/$tarball" ]; then
		lab_apt_update
		url=$(cd "$dir" && lab_apt apt-get source --print-uris "$package/$suite" 2>/dev/null |
			grep -o "'[^']*/$tarball'" | tr -d "'" || true)
		[ -n "$url" ] || die "the mirror lists no $tarball for $package/$suite"
		lab_proxy_env
		curl -fsSL -o "$dir/$tarball.part" "$url" || die "download of $url failed"
		mv "$dir/$tarball.part" "$dir/$tarball"
	fi
	got=$(sha256 "$dir/$tarball")
	[ "$got" = "$sha256" ] || die "$tarball has sha256 $got, ndctl/BASE pins $sha256"
	if [ ! -d "$repo" ]; then
		rm -rf "$repo.new"
		mkdir -p "$repo.new"
		tar -xzf "$dir/$tarball" -C "$repo.new" --strip-components=1
		git -C "$repo.new" init -q -b base
		git -C "$repo.new" add -A -f
		GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" git -C "$repo.new" \
			-c user.name="DCD lab" -c user.email="lab@dcd.invalid" \
			commit -q --date="2026-01-01T00:00:00Z" -m "ndctl $version ($tarball)"
		mv "$repo.new" "$repo"
	fi
	echo "$repo"
}

# The patch series of a generated tree: lab_series_dir linux|ndctl
lab_series_dir() {
	case "$1" in
	linux) echo "$LAB_TOP/kernel" ;;
	ndctl) echo "$LAB_TOP/ndctl" ;;
	*) die "no tree '$1' (linux, ndctl)" ;;
	esac
}

# A digest of a series as it stands in the repo: its list and its patches
series_digest() {
	local d p
	d=$(lab_series_dir "$1")
	{
		cat "$d/series"
		while read -r p; do
			case "$p" in ''|'#'*) continue ;; esac
			cat "$d/patches/$p" 2>/dev/null || echo "missing $p"
		done <"$d/series"
	} | sha256sum | cut -c1-16
}

# True when build/NAME (linux by default) is clean and its commits export to
# exactly the series in the repo.
tree_matches_series() {
	local name=${1:-linux} tmp rc=0 d
	d=$(lab_series_dir "$name")
	tmp=$(mktemp -d)
	mkdir -p "$tmp/out/patches" "$tmp/none"
	"$LAB_TOP/lab/export" --tree "$name" --to "$tmp/out" >/dev/null 2>&1 || rc=1
	mkdir -p "$tmp/out/patches"
	[ $rc = 1 ] || diff -q "$tmp/out/series" "$d/series" >/dev/null 2>&1 || rc=1
	[ $rc = 1 ] || diff -rqN "$tmp/out/patches" "$([ -d "$d/patches" ] && echo "$d/patches" || echo "$tmp/none")" \
		>/dev/null 2>&1 || rc=1
	rm -rf "$tmp"
	return $rc
}
