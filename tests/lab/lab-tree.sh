#!/bin/bash
# The generated trees: a fresh copy of the repo gets build/linux and
# build/ndctl that match their series (so nothing says they differ); a
# changed ndctl/series is re-applied to build/ndctl, unless build/ndctl has
# work of its own, which is never thrown away; `lab/export` writes ndctl's
# series too.  Runs on the host (lab/check's "lab" phase) in a scratch copy.
. "$(dirname "$0")/../guest/lib/ktap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
c=$tmp/repo
mkdir -p "$c"
cp -a "$top/Makefile" "$top/lab" "$top/kernel" "$top/ndctl" "$c/"
# the ndctl patches the repo has now; the test adds two
n0=$(grep -c -v -e '^#' -e '^$' "$c/ndctl/series")

out=$("$c/lab/tree" --if-changed 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
check fresh-trees-created test $rc = 0
[ $rc = 0 ] || done_testing
for t in linux ndctl; do
	check "fresh-$t-matches-its-series" bash -c 'source "$1/lab/lib.sh"; tree_matches_series "$2"' _ "$c" "$t"
done
out=$(bash -c 'source "$1/lab/lib.sh"; tree_matches_series linux || echo "build/linux differs"' _ "$c")
check fresh-clone-says-nothing-differs test -z "$out"

# a series change (as after a pull): a patch to ndctl's README
n=$c/build/ndctl
git -C "$n" checkout -q -b scratch
echo "lab test" >>"$n/README.md"
git -C "$n" commit -q -am "README: a line from the lab's test"
"$c/lab/export" --tree ndctl >/dev/null
git -C "$n" checkout -q dcd
git -C "$n" branch -q -D scratch
"$c/lab/tree" ndctl --if-changed >/dev/null 2>&1
check changed-series-is-re-applied grep -q "lab test" "$n/README.md"
check re-applied-tree-matches bash -c 'source "$1/lab/lib.sh"; tree_matches_series ndctl' _ "$c"

# work of its own is kept, however the series changes
echo "mine" >>"$n/README.md"
git -C "$n" commit -q -am "README: work in progress"
mine=$(git -C "$n" rev-parse HEAD)
: >"$c/ndctl/series"
out=$("$c/lab/tree" ndctl --if-changed 2>&1)
check own-work-is-kept test "$(git -C "$n" rev-parse HEAD)" = "$mine"
check own-work-is-said grep -q "work of its own" <<<"$out"
if "$c/lab/tree" ndctl >/dev/null 2>&1; then
	not_ok make-tree-refuses-to-drop-own-work
else
	check make-tree-refuses-to-drop-own-work test "$(git -C "$n" rev-parse HEAD)" = "$mine"
fi

# export writes ndctl's series, and exporting again changes nothing
"$c/lab/export" >/dev/null 2>&1
check export-writes-ndctl-series test "$(grep -c -v -e '^#' -e '^$' "$c/ndctl/series")" = $((n0 + 2))
check export-writes-ndctl-patches grep -q "work in progress" "$c/ndctl/patches/$(printf %04d $((n0 + 2)))-"*.patch
before=$(cat "$c"/ndctl/series "$c"/ndctl/patches/* "$c"/kernel/series | sha256sum)
"$c/lab/export" >/dev/null 2>&1
check export-is-deterministic test "$(cat "$c"/ndctl/series "$c"/ndctl/patches/* "$c"/kernel/series | sha256sum)" = "$before"
check exported-tree-is-not-reapplied bash -c '"$1/lab/tree" ndctl --if-changed 2>&1 | grep -c . | grep -qx 0' _ "$c"
done_testing
