#!/usr/bin/env bash
# Prints the directory of PostgreSQL 15's source tree as Debian ships it (the postgresql-15
# source package), fetching and unpacking it once into a cache. Tests build PostgreSQL's own
# modules from it unchanged (src/test/modules/...), and server-symbols/generate.py reads its
# settings tables; nothing of it is kept in the repository.
#
# The installed server's version is tried first, then every other version the archive lists
# (a security update may be installed before its source reaches the mirror). Needs deb-src
# entries in apt's sources (.ci/install-deps.sh adds them).
#
# Usage: .ci/pg-source.sh [CACHE_DIR]   (default: target/postgresql-source)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${1:-${BGW_PG_SOURCE_CACHE:-$root/target/postgresql-source}}
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

existing=$(find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'postgresql-15.*' | sort -V | tail -n1)
if [[ -n $existing && -f $existing/src/test/modules/worker_spi/worker_spi.c ]]; then
	echo "$existing"
	exit 0
fi

installed=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
mapfile -t versions < <(
	{
		[[ -n $installed ]] && echo "$installed"
		apt-cache showsrc postgresql-15 2>/dev/null | sed -n 's/^Version: //p' | sort -rV
	} | awk '!seen[$0]++'
)
if ((${#versions[@]} == 0)); then
	echo "pg-source: apt knows no source package postgresql-15 (deb-src entries missing? run .ci/install-deps.sh)" >&2
	exit 1
fi

work=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
for v in "${versions[@]}"; do
	rm -rf "${work:?}"/*
	if (cd "$work" && apt-get source -q --download-only "postgresql-15=$v" >"$work/apt.log" 2>&1); then
		tarball=$(find "$work" -maxdepth 1 -name 'postgresql-15_*.orig.tar.*' | head -n1)
		[[ -n $tarball ]] || continue
		tar -xf "$tarball" -C "$work"
		tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'postgresql-15.*' | head -n1)
		[[ -n $tree ]] || continue
		mv "$tree" "$cache/"
		echo "$cache/$(basename "$tree")"
		exit 0
	fi
	echo "pg-source: source of postgresql-15 $v not available, trying the next version" >&2
done
echo "pg-source: could not fetch any version of the postgresql-15 source package:" >&2
cat "$work/apt.log" >&2
exit 1
