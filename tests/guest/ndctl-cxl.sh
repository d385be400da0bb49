#!/bin/bash
# ndctl's own cxl test suite (ndctl 81 plus ndctl/series) against cxl_test,
# one result line a test; a skipped test carries its reason (the last line
# it printed).  Arguments, if any, name the tests to run (a focused run).
. /lab/tests/guest/lib/ktap.sh
b=/opt/ndctl/build
# Each test loads cxl_test itself.
modprobe -r cxl_test 2>/dev/null
PYTHONUNBUFFERED=1 meson test -C "$b" --suite cxl --no-rebuild --num-processes 1 \
	--timeout-multiplier 10 "$@" 2>&1 | tee /tmp/meson-test.out |
	sed -u -n '/^ *[0-9]*\/[0-9]* *ndctl:cxl/{s/^ *\([0-9]*\/[0-9]*\) *ndctl:cxl *\/ */# progress: ndctl \1 /;s/  */ /g;p}'

cp "$b/meson-logs/testlog.txt" /out/ndctl-testlog.txt 2>/dev/null
log=$b/meson-logs/testlog.json
[ -s "$log" ] || { cat /tmp/meson-test.out; not_ok "ndctl:cxl suite (no test log)"; done_testing; }
while read -r t; do
	name=$(jq -r .name <<<"$t")
	name=ndctl:${name#*/ }
	name=${name// /}
	res=$(jq -r .result <<<"$t")
	case "$res" in
	OK|EXPECTEDFAIL) ok "$name" ;;
	SKIP) skip "$name" "$(jq -r '.stdout // ""' <<<"$t" | grep -v '^\s*$' | tail -n 1)" ;;
	*)
		out=$(jq -r '(.stdout // "") + (.stderr // "")' <<<"$t")
		known=$(/lab/tests/guest/lib/ndctl-known "${name#ndctl:}" /opt/ndctl/src/test \
			/lab/tests/ndctl-known-failures <<<"$out")
		if [ -n "$known" ]; then
			skip "$name" "known base failure: $known"
		else
			tail -n 40 <<<"$out" | sed 's/^/# /'
			not_ok "$name ($res)"
		fi
		;;
	esac
done < <(jq -c . "$log")
done_testing
