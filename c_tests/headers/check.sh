#!/usr/bin/env bash
# Compiles every public header alone and twice in one translation unit, as C and as C++, with
# -Werror -pedantic; then the reference hello worker and the usage fixture, unchanged, as modules.
#
# Usage: c_tests/headers/check.sh [--libdir DIR]
#   --libdir DIR  also link the modules with -Wl,--no-undefined against DIR/libbgworker.so, which
#                 proves the library defines every symbol the header macros make a module use.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
include="$root/include"
libdir=""
if [[ ${1:-} == --libdir ]]; then
	libdir=${2:?--libdir needs a directory}
fi

CC=${CC:-cc}
CXX=${CXX:-c++}
c_flags=(-std=c11 -Wall -Wextra -Werror -pedantic)
cxx_flags=(-std=c++17 -Wall -Wextra -Werror -pedantic)
# The warnings PostgreSQL's PGXS turns on for modules, plus a few more a header must not trip.
pgxs_flags=(-Wmissing-prototypes -Wpointer-arith -Wdeclaration-after-statement -Werror=vla
	-Wendif-labels -Wmissing-format-attribute -Wimplicit-fallthrough=3 -Wcast-function-type
	-Wformat-security -Wshadow -Wstrict-prototypes -Wundef -fno-strict-aliasing -fwrapv)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0

# run NAME COMMAND...: one check; its compiler output is shown only when it fails.
run() {
	local name=$1
	shift
	if "$@" >"$work/out" 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $name"
		sed 's/^/    /' "$work/out"
	fi
}

if [[ ! -f $include/bgworker.h ]]; then
	echo "FAIL: $include/bgworker.h is missing (run: cargo build / make header)"
	echo "headers: 0 passed, 1 failed"
	exit 1
fi

mapfile -t headers < <(cd "$include" && find . -name '*.h' -printf '%P\n' | LC_ALL=C sort)

for h in "${headers[@]}"; do
	tu="$work/tu_${h//\//_}"
	printf '#include "%s"\n#include "%s"\n' "$h" "$h" >"$tu.c"
	cp "$tu.c" "$tu.cpp"
	run "$h alone and twice (C)" "$CC" "${c_flags[@]}" -Wundef -I"$include" -fsyntax-only "$tu.c"
	run "$h alone and twice (C++)" "$CXX" "${cxx_flags[@]}" -I"$include" -fsyntax-only "$tu.cpp"
done

# Fixtures are compiled exactly as a module author builds a module; -O2 also enables the
# warnings that depend on flow analysis (-Wclobbered around PG_TRY, -Wmaybe-uninitialized).
# The reference hello worker (symbol-surface.md §5) lives with the test modules.
fixtures=("$here/../modules/hello_bgw.c" "$here/usage.c")
for ex in "$root"/examples/*.c; do
	[[ -e $ex ]] && fixtures+=("$ex")
done

for src in "${fixtures[@]}"; do
	name=$(basename "$src" .c)
	rel=${src#"$root"/}
	for opt in -O0 -O2; do
		run "$rel as a C module ($opt)" \
			"$CC" "${c_flags[@]}" "$opt" -I"$include" -fPIC -shared -o "$work/$name.so" "$src"
		run "$rel as a C++ module ($opt)" \
			"$CXX" -x c++ "${cxx_flags[@]}" "$opt" -I"$include" -fPIC -shared \
			-o "$work/$name-cxx.so" "$src"
	done
	run "$rel as a C module with PGXS warnings" \
		"$CC" "${c_flags[@]}" "${pgxs_flags[@]}" -O2 -I"$include" -fPIC -shared \
		-o "$work/$name-pgxs.so" "$src"
	if [[ -n $libdir ]]; then
		run "$rel links with no undefined symbol against $libdir" \
			"$CC" "${c_flags[@]}" -I"$include" -fPIC -shared -Wl,--no-undefined \
			-o "$work/$name-linked.so" "$src" -L"$libdir" -lbgworker
	fi
done

echo "headers: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
