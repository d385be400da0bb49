# shellcheck shell=bash
# KTAP-style result lines for lab guest tests: one line a case, read by
# lab/check.  Source it; call ok/not_ok/skip, then done_testing.
_ktap_n=0
_ktap_fail=0
ok() { _ktap_n=$((_ktap_n + 1)); echo "ok $_ktap_n $*"; }
not_ok() { _ktap_n=$((_ktap_n + 1)); _ktap_fail=1; echo "not ok $_ktap_n $*"; }
skip() { _ktap_n=$((_ktap_n + 1)); local n=$1; shift; echo "ok $_ktap_n $n # SKIP $*"; }
# check NAME CMD...: ok if CMD succeeds, not ok (with its output) otherwise
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else echo "$out" | sed 's/^/# /'; not_ok "$name"; fi
}
done_testing() { echo "1..$_ktap_n"; exit $_ktap_fail; }
