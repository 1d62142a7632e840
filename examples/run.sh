#!/usr/bin/env bash
# `make run`: builds the example modules, then runs bgworkerd on a fresh temporary data directory
# with them preloaded and its log on this terminal.  Ctrl-C asks for a fast shutdown; the
# temporary directory is removed once bgworkerd has exited.
#
# Usage: examples/run.sh [BUILD_DIR]   (BUILD_DIR holds bgworkerd and libbgworker.so; default
#                                       target/debug)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$(cd "${1:-$root/target/debug}" && pwd)
CC=${CC:-cc}

for f in bgworkerd libbgworker.so; do
	if [[ ! -e $build_dir/$f ]]; then
		echo "run: $build_dir/$f is missing; build first (make all)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bgworker-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/lib"

libs=()
for src in "$root"/examples/*.c; do
	name=$(basename "$src" .c)
	"$CC" -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared -I"$root/include" \
		-o "$tmp/lib/$name.so" "$src" -L"$build_dir" -lbgworker
	libs+=("$name")
done
preload=$(
	IFS=,
	echo "${libs[*]}"
)

cmd=("$build_dir/bgworkerd" -D "$tmp/data"
	-c "shared_preload_libraries=$preload"
	-c "dynamic_library_path=$tmp/lib"
	-c "log_min_messages=debug1"
	-c "cluster_name=examples")
echo "run: ${cmd[*]}"
echo "run: press Ctrl-C to shut down"

# bgworkerd runs as a job of its own (set -m) so that this script can both forward the signal
# and clean up after it: Ctrl-C reaches this script, which sends SIGINT (fast shutdown) on.
set -m
"${cmd[@]}" </dev/null &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' INT TERM HUP

while kill -0 "$pid" 2>/dev/null; do
	wait "$pid" || true
done
wait "$pid" && status=0 || status=$?
echo "run: bgworkerd exited with status $status"
exit "$status"
