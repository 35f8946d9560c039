#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for $2 seconds on its
# seed corpus (tests/fuzz/corpus/NAME); any crash, leak or timeout fails.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-fuzz}
secs=${2:-30}
CC=clang cmake -S . -B "$dir" -DLM_FUZZ=ON -DLM_TESTS=OFF >/dev/null
cmake --build "$dir" -j "$(nproc)"
shopt -s nullglob
for f in "$dir"/tests/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
	echo "== $name for ${secs}s"
	log=$(mktemp)
	rc=0
	"$f" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
		"$work" >"$log" 2>&1 || rc=$?
	# the last status line carries executions and coverage (cov:, ft:)
	grep -E '^#[0-9]+' "$log" | tail -n 1
	grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log"
	rm -rf "$work"
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$log"
		rm -f "$log"
		echo "fuzzer $name failed ($rc)"
		exit 1
	fi
	rm -f "$log"
done
