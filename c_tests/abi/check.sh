#!/usr/bin/env bash
# ABI check: builds abi_dump.c against our include/ and against PostgreSQL 15's server headers,
# runs both and requires identical output, line by line.  Also checks the magic block's
# abi_extra tag of each build.
#
# Usage: c_tests/abi/check.sh            (PG_INCLUDEDIR_SERVER overrides the PostgreSQL headers)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
CC=${CC:-cc}
pg_include=${PG_INCLUDEDIR_SERVER:-}
if [[ -z $pg_include ]]; then
	if command -v pg_config >/dev/null && [[ $(pg_config --version) == "PostgreSQL 15."* ]]; then
		pg_include=$(pg_config --includedir-server)
	else
		pg_include=/usr/include/postgresql/15/server
	fi
fi
if [[ ! -f $pg_include/postmaster/bgworker.h ]]; then
	echo "FAIL: PostgreSQL 15 server headers not found in $pg_include (install postgresql-server-dev-15)"
	echo "abi: 0 passed, 1 failed"
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

flags=(-std=c11 -Wall -Wextra -Werror -O0)

build() { # build NAME CFLAGS...
	local name=$1
	shift
	if ! "$CC" "${flags[@]}" "$@" -o "$work/$name" "$here/abi_dump.c" 2>"$work/$name.err"; then
		echo "FAIL: abi_dump.c does not compile against the $name headers"
		sed 's/^/    /' "$work/$name.err"
		echo "abi: 0 passed, 1 failed"
		exit 1
	fi
	"$work/$name" >"$work/$name.out"
}

build ours -I"$root/include"
# PostgreSQL's headers are not warning-clean under -Wextra; -w keeps its own noise out.
build postgresql -DABI_DUMP_POSTGRESQL -D_GNU_SOURCE -I"$pg_include" -w

passed=0
failed=0
mapfile -t ours <"$work/ours.out"
mapfile -t theirs <"$work/postgresql.out"
n=${#theirs[@]}
((${#ours[@]} > n)) && n=${#ours[@]}
for ((i = 0; i < n; i++)); do
	if [[ ${ours[i]-} == "${theirs[i]-}" ]]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: line $((i + 1)) differs"
		echo "    postgresql: ${theirs[i]-<missing>}"
		echo "    ours:       ${ours[i]-<missing>}"
	fi
done

# abi_extra distinguishes modules built against these headers from PostgreSQL-built ones.
extra() { # extra NAME CFLAGS...: prints the abi_extra string of a module built with CFLAGS
	local name=$1
	shift
	cat >"$work/extra_$name.c" <<-'EOF'
		#include "postgres.h"
		#include "fmgr.h"
		#undef printf
		PG_MODULE_MAGIC;
		int main(void) { printf("%s\n", Pg_magic_func()->abi_extra); return 0; }
	EOF
	"$CC" -std=c11 "$@" -o "$work/extra_$name" "$work/extra_$name.c"
	"$work/extra_$name"
}
for pair in "ours:libbgworker:-I$root/include" "postgresql:PostgreSQL:-I$pg_include"; do
	IFS=: read -r name want flag <<<"$pair"
	got=$(extra "$name" -D_GNU_SOURCE -w "$flag")
	if [[ $got == "$want" ]]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: abi_extra of a module built against the $name headers is '$got', expected '$want'"
	fi
done

echo "abi: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
