#!/bin/bash
# Run the KUnit suites listed in tests/kunit/modules: load each module (KUnit
# runs its suites at load), read every new suite's KTAP results from debugfs,
# and report one line a suite, its cases as comments.
. /lab/tests/guest/lib/ktap.sh
d=/sys/kernel/debug/kunit
n_suites=0
while read -r mod; do
	case "$mod" in ''|'#'*) continue ;; esac
	before=$(ls "$d" 2>/dev/null)
	if ! modprobe "$mod"; then
		not_ok "kunit:$mod (module did not load)"
		continue
	fi
	new=$(comm -13 <(echo "$before" | sort) <(ls "$d" | sort))
	[ -n "$new" ] || not_ok "kunit:$mod (no suite ran)"
	for suite in $new; do
		n_suites=$((n_suites + 1))
		sed 's/^/# /' "$d/$suite/results"
		r=$d/$suite/results
		last=$(grep -E '^(not )?ok ' "$r" | tail -n 1)
		cases=$(grep -cE '^\s+(not )?ok ' "$r")
		skipped=$(grep -cE '^\s+ok .*# SKIP' "$r")
		case "$last" in
		"ok "*"# SKIP"*) skip "kunit:$suite" "${last#*# SKIP}" ;;
		"ok "*) if [ "$cases" -gt 0 ] && [ "$cases" = "$skipped" ]; then
				skip "kunit:$suite" "all $cases cases skipped"
			else
				ok "kunit:$suite"
			fi ;;
		*) not_ok "kunit:$suite" ;;
		esac
	done
	modprobe -r "$mod"
done </lab/tests/kunit/modules
echo "# kunit: $n_suites suites"
done_testing
