#!/usr/bin/env bash
# bench/run.sh -- `make bench`: the benchmark shapes against libbgworker, PostgreSQL 15 and the
# machine's bare fork floor, in one run, ending with one table (see bench/README.md).
#
# Everything is built and run in a fresh temporary directory that is removed at the end, the
# throwaway PostgreSQL cluster included. Run as root, the processes run as the unprivileged user
# $BENCH_USER (created when missing: PostgreSQL refuses root); otherwise as the caller.
#
# Environment (all optional):
#   BENCH_ROUNDS       rounds of floor, libbgworker, PostgreSQL; samples are pooled (default 3)
#   BENCH_ITERS        iterations of shapes 1-3 per round (default 1000); shape 4 and shape 8 at 10 and
#                      100 idle use half, shape 8 at 1,000 idle a fifth (10 and 1,000 idle are measured
#                      in two blocks each, alternating, so drift during a round weighs on both alike)
#   BENCH_STORM_ROUNDS 1,000-worker storms per round (default 5)
#   BENCH_STORM_BATCH  workers registered back to back before waiting for them (default 100)
#   BENCH_LW_ROUNDS    timed rounds of the LWLock shapes 9 and 10 per round (default 20)
#   BENCH_DB_ITERS     database workers per round in shape 11, a tenth of it in shapes 12 and 13
#                      and in their libpq floor (default 200)
#   BENCH_CURSOR_ITERS workers per round in shape 14, each reading 1,000,000 rows (default 3)
#   BENCH_LOG_ITERS    samples per round of shape 16, 4 workers logging 25,000 lines each (default 5)
#   BENCH_MQ_ROUNDS    runs of test_shm_mq's regression script per round, shape 18 (default 3)
#   BENCH_TIMEOUT      seconds allowed for each side (default 300)
#   BENCH_USER         unprivileged user when run as root (default bgwbench)
#   PG_BIN             PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
#   BENCH_KEEP=1       keep the temporary directory (its path is printed)
#   BENCH_ONLY         run only these plan keys, e.g. "s9_excl s9_shared s10" (default: all)
set -euo pipefail

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$bench")
export PATH="$HOME/.cargo/bin:$PATH"

ITERS=${BENCH_ITERS:-1000}
ROUNDS=${BENCH_ROUNDS:-3}
STORM_ROUNDS=${BENCH_STORM_ROUNDS:-5}
STORM_BATCH=${BENCH_STORM_BATCH:-100}
LW_ROUNDS=${BENCH_LW_ROUNDS:-20}
DB_ITERS=${BENCH_DB_ITERS:-200}
CURSOR_ITERS=${BENCH_CURSOR_ITERS:-3}
LOG_ITERS=${BENCH_LOG_ITERS:-5}
MQ_ROUNDS=${BENCH_MQ_ROUNDS:-3}
TIMEOUT=${BENCH_TIMEOUT:-300}
BENCH_USER=${BENCH_USER:-bgwbench}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CC=${CC:-cc}
S7_IDLE=10
MAX_WORKERS=1100 # room for 1,000 idle workers (shape 8), the one being measured and the driver

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

for tool in "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$PG_BIN/psql" "$PG_BIN/pg_config"; do
	[[ -x $tool ]] || die "$tool not found (PostgreSQL 15 server; set PG_BIN)"
done
[[ $("$PG_BIN/pg_config" --version) == "PostgreSQL 15."* ]] || die "$PG_BIN is not PostgreSQL 15"
[[ -f $("$PG_BIN/pg_config" --pgxs) ]] || die "PGXS missing: install postgresql-server-dev-15"

# ---- who runs the processes -------------------------------------------------------------------
if [[ $EUID -eq 0 ]]; then
	if ! id -u "$BENCH_USER" >/dev/null 2>&1; then
		say "creating unprivileged user $BENCH_USER"
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
			"$BENCH_USER"
	fi
	as_user() { runuser -u "$BENCH_USER" -- "$@"; }
	run_user=$BENCH_USER
else
	as_user() { "$@"; }
	run_user=$(id -un)
fi

# ---- scratch space and cleanup ----------------------------------------------------------------
tmp=$(mktemp -d /tmp/bgwbench.XXXXXX)
chmod 755 "$tmp"
mkdir -p "$tmp/build/pg" "$tmp/lib" "$tmp/out" "$tmp/sock"
[[ $EUID -eq 0 ]] && chown "$run_user" "$tmp/out" "$tmp/sock"
ours_job="" # the background job running bgworkerd (through runuser when root)
ours_pid="" # bgworkerd itself
pg_started=""

cleanup() {
	set +e
	if [[ -n $ours_pid ]] && kill -0 "$ours_pid" 2>/dev/null; then
		kill -INT "$ours_pid"
		for _ in $(seq 50); do kill -0 "$ours_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$ours_pid" 2>/dev/null
	elif [[ -n $ours_job ]] && kill -0 "$ours_job" 2>/dev/null; then
		kill -TERM "$ours_job"
	fi
	if [[ -n $pg_started ]]; then
		as_user "$PG_BIN/pg_ctl" -D "$tmp/pgdata" -m immediate -w stop >/dev/null 2>&1
	fi
	if [[ ${BENCH_KEEP:-0} == 1 ]]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- build --------------------------------------------------------------------------------------
say "building libbgworker (release)"
(cd "$root" && cargo build --release --quiet) || die "cargo build --release failed"
rel=$root/target/release
[[ -x $rel/bgworkerd && -e $rel/libbgworker.so ]] || die "release build products missing in $rel"

say "building the bench module, the PostgreSQL extension and the floor"
"$CC" -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared -I"$root/include" -I"$bench/common" \
	-I"$root/c_tests/modules" \
	-o "$tmp/lib/bgw_bench.so" "$bench/bgw_bench.c" "$bench/common/shapes.c" -L"$rel" -lbgworker
"$CC" -std=c11 -Wall -Wextra -Werror -O2 -o "$tmp/build/floor" "$bench/floor.c"
"$CC" -std=c11 -Wall -Wextra -Werror -O2 -I"$("$PG_BIN/pg_config" --includedir)" \
	-o "$tmp/build/floor_libpq" "$bench/floor_libpq.c" -L"$("$PG_BIN/pg_config" --libdir)" -lpq ||
	die "building floor_libpq failed (libpq's headers: package libpq-dev)"
make --no-print-directory -s -C "$tmp/build/pg" -f "$bench/pg/Makefile" VPATH="$bench/pg" \
	PG_CONFIG="$PG_BIN/pg_config" SHAPES_DIR="$bench/common" >"$tmp/build/pg/make.log" 2>&1 ||
	{
		cat "$tmp/build/pg/make.log" >&2
		die "building the PostgreSQL extension failed"
	}
pg_module=$tmp/build/pg/pg_bgw_bench.so

# PostgreSQL 15's own test_shm_mq, built unchanged from its source with PGXS; both sides load it
# from $tmp/lib (shapes 18 and 20).
say "building PostgreSQL's test_shm_mq from its source"
pg_tree=$("$root/.ci/pg-source.sh") || die "PostgreSQL's source is needed (.ci/pg-source.sh)"
cp -r "$pg_tree/src/test/modules/test_shm_mq" "$tmp/build/test_shm_mq"
make --no-print-directory -s -C "$tmp/build/test_shm_mq" USE_PGXS=1 PG_CONFIG="$PG_BIN/pg_config" \
	>"$tmp/build/test_shm_mq/make.log" 2>&1 || {
	cat "$tmp/build/test_shm_mq/make.log" >&2
	die "building test_shm_mq failed"
}
cp "$tmp/build/test_shm_mq/test_shm_mq.so" "$tmp/lib/"

# ---- the plan: KEY SHAPE ITERATIONS ARG, run identically by both sides --------------------------
half=$(((ITERS + 1) / 2))
quarter=$(((ITERS + 3) / 4))
tenth=$(((ITERS + 9) / 10))
db_tenth=$(((DB_ITERS + 9) / 10))
cat >"$tmp/plan" <<EOF
s1 s1 $ITERS 0
s2 s2 $ITERS 0
s3 s3 $ITERS 0
s4 s4 $half 0
s5 s5 $STORM_ROUNDS $STORM_BATCH
s6 s6 50 0
s7 s7 1 $S7_IDLE
s8_10 s8 $quarter 10
s8_1000 s8 $tenth 1000
s8_100 s8 $half 100
s8_10 s8 $quarter 10
s8_1000 s8 $tenth 1000
s9_excl s9 $LW_ROUNDS 0
s9_shared s9 $LW_ROUNDS 1
s10 s10 $LW_ROUNDS 0
s11 s11 $DB_ITERS 0
s12 s12 $db_tenth 0
s13 s13 $db_tenth 0
s14 s14 $CURSOR_ITERS 0
s15 s15 $half 0
s16 s16 $LOG_ITERS 4
s17 s17 $ITERS 0
s18 s18 $MQ_ROUNDS 0
s19 s19 $ITERS 0
s20 s20 3 200
s21 s21 $ITERS 0
EOF
if [[ -n ${BENCH_ONLY:-} ]]; then
	awk -v only=" $BENCH_ONLY " 'index(only, " " $1 " ") > 0' "$tmp/plan" >"$tmp/plan.only"
	mv "$tmp/plan.only" "$tmp/plan"
	[[ -s $tmp/plan ]] || die "BENCH_ONLY=\"$BENCH_ONLY\" matches no shape of the plan"
fi
started=$(date +%s)

# ---- PostgreSQL 15: a throwaway cluster, started once for all rounds ------------------------
port=$((20000 + RANDOM % 20000))
if command -v ss >/dev/null; then
	while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
fi
say "PostgreSQL $("$PG_BIN/pg_config" --version | awk '{print $2}'): throwaway cluster as $run_user, port $port"
mkdir -m 700 "$tmp/pgdata"
[[ $EUID -eq 0 ]] && chown "$run_user" "$tmp/pgdata"
as_user "$PG_BIN/initdb" -D "$tmp/pgdata" -A trust -U "$run_user" -E UTF8 --locale=C -N \
	>"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	die "initdb failed"
}
cat >>"$tmp/pgdata/postgresql.conf" <<EOF

# bench/run.sh
listen_addresses = ''
unix_socket_directories = '$tmp/sock'
port = $port
max_connections = 10
max_worker_processes = $MAX_WORKERS
shared_preload_libraries = '$pg_module'
dynamic_library_path = '\$libdir:$tmp/lib'
autovacuum = off
fsync = off
logging_collector = on
log_rotation_size = 0
EOF
as_user "$PG_BIN/pg_ctl" -D "$tmp/pgdata" -l "$tmp/out/pg.log" -w -t 60 start >/dev/null || {
	tail -n 30 "$tmp/out/pg.log" >&2
	die "PostgreSQL did not start"
}
pg_started=1
psql_cmd=("$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$tmp/sock" -p "$port" -d postgres)
# The extension script, with MODULE_PATHNAME pointing at the build (nothing is installed).
sed -e '/^\\echo/d' -e "s|MODULE_PATHNAME|$pg_module|g" "$bench/pg/pg_bgw_bench--1.0.sql" \
	>"$tmp/build/pg/create.sql"
as_user "${psql_cmd[@]}" -f "$tmp/build/pg/create.sql" || die "creating the SQL function failed"

# ---- the rounds: floor, libbgworker (bgworkerd with the bench module preloaded, whose driver
# worker runs the plan), PostgreSQL (the extension's SQL function runs each plan line) ----------
: >"$tmp/samples"
run_floor() {
	say "round $round: floor: fork + pipe / waitpid ($ITERS iterations, $STORM_ROUNDS storms)"
	as_user "$tmp/build/floor" "$ITERS" "$STORM_ROUNDS" "$STORM_BATCH" "$half" 10 100 1000 |
		awk '{ print "floor", $1, $2, $3 }' >>"$tmp/samples"
	if grep -q '^s13 ' "$tmp/plan"; then
		say "round $round: floor: libpq PQexecPrepared on the cluster's socket ($db_tenth samples)"
		as_user "$tmp/build/floor_libpq" "host=$tmp/sock port=$port user=$run_user dbname=postgres" \
			"$db_tenth" | awk '{ print "floor", $1, $2, $3 }' >>"$tmp/samples" ||
			die "floor_libpq failed"
	fi
}

run_ours() {
	say "round $round: libbgworker: bgworkerd $("$rel/bgworkerd" --version | head -n1 | awk '{print $3}'), driver worker running the plan"
	as_user env BGW_BENCH_DIR="$rdir" "$rel/bgworkerd" -D "$tmp/out/ours-data.$round" \
		-c shared_preload_libraries=bgw_bench -c dynamic_library_path="$tmp/lib" \
		-c max_worker_processes=$MAX_WORKERS -c log_min_messages=log -c cluster_name=bench \
		-c logging_collector=on -c log_rotation_size=0 \
		-c "database_conninfo=host=$tmp/sock port=$port user=$run_user" \
		</dev/null >"$tmp/ours.$round.log" 2>&1 &
	ours_job=$!
	deadline=$((SECONDS + TIMEOUT))
	# Signals go to bgworkerd itself (named in its postmaster.pid), not to the runuser in between.
	until [[ -s $tmp/out/ours-data.$round/postmaster.pid ]]; do
		if ! kill -0 "$ours_job" 2>/dev/null || ((SECONDS > deadline)); then
			cat "$tmp/ours.$round.log" >&2
			die "bgworkerd did not start (log above)"
		fi
		sleep 0.05
	done
	ours_pid=$(head -n1 "$tmp/out/ours-data.$round/postmaster.pid")
	until [[ -e $rdir/ours.done ]]; do
		if [[ -e $rdir/ours.failed ]] || ! kill -0 "$ours_job" 2>/dev/null || ((SECONDS > deadline)); then
			tail -n 30 "$tmp/ours.$round.log" "$tmp/out/ours-data.$round"/log/*.log >&2
			die "the libbgworker side failed or timed out (log above)"
		fi
		sleep 0.2
	done
	kill -INT "$ours_pid"
	wait "$ours_job" || die "bgworkerd exited with status $? after a fast shutdown"
	ours_pid=""
	line=0
	while read -r key _; do
		line=$((line + 1))
		awk -v k="$key" 'NF == 2 { print "ours", k, $1, $2 }' "$rdir/ours.$line.$key" >>"$tmp/samples"
	done <"$tmp/plan"
}

run_pg() {
	say "round $round: PostgreSQL, the extension's SQL function running the plan"
	deadline=$((SECONDS + TIMEOUT))
	while read -r key shape iters arg; do
		left=$((deadline - SECONDS))
		((left > 0)) || die "the PostgreSQL side timed out"
		as_user timeout "$left" "${psql_cmd[@]}" \
			-c "SELECT bgw_bench_run('$shape', $iters, $arg, '$rdir')" </dev/null >"$rdir/pg.$key" ||
			{
				tail -n 30 "$tmp/out/pg.log" "$tmp/pgdata"/log/*.log >&2
				die "PostgreSQL shape $key failed (log above)"
			}
		awk -v k="$key" 'NF == 2 { print "pg", k, $1, $2 }' "$rdir/pg.$key" >>"$tmp/samples"
	done <"$tmp/plan"
}

for round in $(seq "$ROUNDS"); do
	rdir=$tmp/out/r$round
	mkdir "$rdir"
	cp "$tmp/plan" "$rdir/plan"
	[[ $EUID -eq 0 ]] && chown -R "$run_user" "$rdir"
	run_floor
	run_ours
	run_pg
done
as_user "$PG_BIN/pg_ctl" -D "$tmp/pgdata" -m fast -w stop >/dev/null
pg_started=""


# ---- the table ----------------------------------------------------------------------------------
elapsed=$(($(date +%s) - started))
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain -- src include 2>/dev/null | grep -q . && echo "+changes" || true)
echo
echo "libbgworker ${commit}${dirty} (release) vs $("$PG_BIN/pg_config" --version) vs bare fork;" \
	"$(nproc) CPUs, $(uname -sr); $(date -u '+%Y-%m-%d %H:%M UTC'); ${elapsed}s"
echo "$ROUNDS rounds (samples pooled), each: shapes 1-3 $ITERS, shape 4 $half, storm $STORM_ROUNDS × 1,000 (batches of" \
	"$STORM_BATCH), shape 6 50 × 100,000 calls, shape 8 $half/$half/$((2 * tenth)) (10 and 1,000 idle in two alternating blocks)," \
	"shapes 9-10 $LW_ROUNDS × 1,000,000 / 2 × 200,000 pairs, shape 11 $DB_ITERS," \
	"shapes 12-13 $db_tenth × 200 statements, shape 14 $CURSOR_ITERS × 1,000,000 rows, shape 15 $half," \
	"shape 16 $LOG_ITERS × 4 × 25,000 lines, shape 17 $ITERS; logging_collector on;" \
	"shape 18 $MQ_ROUNDS × the test_shm_mq script, shapes 19 and 21 $ITERS, shape 20 3 × 200 messages;" \
	"max_worker_processes $MAX_WORKERS"
echo
sort -k1,1 -k2,2 -k3,3 -k4,4g "$tmp/samples" |
	awk -v storm_batch="$STORM_BATCH" -v s7_idle="$S7_IDLE" -f "$bench/report.awk"
