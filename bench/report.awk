# report.awk -- turns the benchmark's samples into the one table run.sh prints.
#
# Input: "SIDE KEY METRIC VALUE" lines (SIDE = ours | pg | floor), sorted by SIDE, KEY, METRIC
# and numerically by VALUE (run.sh sorts them). Variables: storm_batch, s7_idle.
# Percentiles are nearest-rank: p50 = the ceil(n/2)-th value, p99 = the ceil(0.99 n)-th.

function ceil(x) { return (x == int(x)) ? x : int(x) + 1 }

function flush(   i) {
	if (n == 0)
		return
	id = cur
	N[id] = n
	P50[id] = v[ceil(n * 0.50)]
	P99[id] = v[ceil(n * 0.99)]
	n = 0
}

{
	k = $1 SUBSEP $2 SUBSEP $3
	if (k != cur)
		flush()
	cur = k
	v[++n] = $4
}

function has(side, key, metric) { return ((side SUBSEP key SUBSEP metric) in P50) }
function p50(side, key, metric) { return P50[side SUBSEP key SUBSEP metric] }
function p99(side, key, metric) { return P99[side SUBSEP key SUBSEP metric] }

function num(x, unit) {
	if (x == "")
		return "—"
	if (unit == "ns/call")
		return sprintf("%.2f", x)
	if (unit == "µs/stmt" || unit == "µs/op" || unit == "ms" || unit == "MB/s")
		return sprintf("%.1f", x)
	if (unit == "µs")
		return sprintf("%.0f", x)
	return sprintf("%.0f", x)
}

# Checks a ratio against a target such as "≤0.20" or "≥5.00" (the first number in it); counts
# the targets and the misses of the current row.
function judge(ratio, target,   bound, ok) {
	if (target == "" || ratio == "")
		return
	bound = target
	gsub(/[^0-9.]/, "", bound)
	ok = (index(target, "≥") > 0) ? (ratio >= bound + 0) : (ratio <= bound + 0)
	targets++
	if (!ok)
		misses++
}

function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "" : a / b }
function rfmt(r) { return (r == "") ? "—" : sprintf("%.2f×", r) }

# One row: ours vs PostgreSQL (same key) and vs a floor key; targets may be "".
function row(label, unit, key, metric, floorkey, floormetric, tpg, tfloor,
			 o50, o99, g50, g99, f50, rpg, rfl) {
	o50 = has("ours", key, metric) ? p50("ours", key, metric) : ""
	o99 = has("ours", key, metric) ? p99("ours", key, metric) : ""
	g50 = has("pg", key, metric) ? p50("pg", key, metric) : ""
	g99 = has("pg", key, metric) ? p99("pg", key, metric) : ""
	f50 = (floorkey != "" && has("floor", floorkey, floormetric)) ? p50("floor", floorkey, floormetric) : ""
	rpg = ratio(o50, g50)
	rfl = ratio(o50, f50)
	targets = 0; misses = 0
	judge(rpg, tpg)
	judge(rfl, tfloor)
	emit(label, unit, num(o50, unit), num(o99, unit), num(g50, unit), num(g99, unit),
		 num(f50, unit), rfmt(rpg), tpg, rfmt(rfl), tfloor)
}

function emit(label, unit, o50, o99, g50, g99, f50, rpg, tpg, rfl, tfl,   verdict) {
	verdict = (targets == 0) ? "—" : (misses == 0 ? "PASS" : "MISS")
	if (verdict == "PASS") total_pass++
	if (verdict == "MISS") total_miss++
	printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, unit, o50, o99,
		g50, g99, f50, rpg, (tpg == "" ? "—" : tpg), rfl, (tfl == "" ? "—" : tfl), verdict
}

END {
	flush()
	print "| shape | unit | ours p50 | ours p99 | PG p50 | PG p99 | floor p50 | ours/PG | target | ours/floor | target | result |"
	print "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|"
	row("1 register → entry running", "µs", "s1", "latency_us", "fork_started", "latency_us", "≤0.20", "≤1.50")
	row("2 register → WaitForBackgroundWorkerStartup", "µs", "s2", "latency_us", "fork_started", "latency_us", "", "")
	row("3 launch + exit + WaitForBackgroundWorkerShutdown", "µs", "s3", "latency_us", "fork_exit", "latency_us", "≤0.20", "")
	row("4 TerminateBackgroundWorker (idle) → shutdown seen", "µs", "s4", "latency_us", "", "", "≤0.30", "")
	row("5 storm: 1,000 workers, batches of " storm_batch, "workers/s", "s5", "workers_per_s", "fork_storm", "forks_per_s", "≥5.00", "")
	row("6 GetBackgroundWorkerPid", "ns/call", "s6", "ns_per_call", "", "", "≤1.00", "")
	row("7 idle worker PSS (" s7_idle " idle)", "kB", "s7", "worker_pss_kb", "", "", "≤0.25", "")
	row("7 idle worker RSS", "kB", "s7", "worker_rss_kb", "", "", "", "")
	row("7 supervisor / postmaster PSS", "kB", "s7", "supervisor_pss_kb", "", "", "", "")
	row("7 supervisor / postmaster RSS", "kB", "s7", "supervisor_rss_kb", "", "", "", "")
	row("8 shape 1 with 10 idle workers", "µs", "s8_10", "latency_us", "fork_started_10", "latency_us", "", "")
	row("8 shape 1 with 100 idle workers", "µs", "s8_100", "latency_us", "fork_started_100", "latency_us", "", "")
	row("8 shape 1 with 1,000 idle workers", "µs", "s8_1000", "latency_us", "fork_started_1000", "latency_us", "", "")
	# Shape 8's target compares a side with itself: p50 at 1,000 idle over p50 at 10 idle.
	o = ratio(has("ours", "s8_1000", "latency_us") ? p50("ours", "s8_1000", "latency_us") : "",
			  has("ours", "s8_10", "latency_us") ? p50("ours", "s8_10", "latency_us") : "")
	g = ratio(has("pg", "s8_1000", "latency_us") ? p50("pg", "s8_1000", "latency_us") : "",
			  has("pg", "s8_10", "latency_us") ? p50("pg", "s8_10", "latency_us") : "")
	targets = 0; misses = 0
	judge(o, "≤1.20")
	emit("8 p50 at 1,000 idle ÷ p50 at 10 idle", "ratio", rfmt(o), "", rfmt(g), "", "", "", "", rfmt(o),
		 "≤1.20 (ours ÷ ours)")
	row("9 LWLock acquire+release, free, LW_EXCLUSIVE", "ns/call", "s9_excl", "ns_per_pair", "", "", "≤1.00", "")
	row("9 LWLock acquire+release, free, LW_SHARED", "ns/call", "s9_shared", "ns_per_pair", "", "", "≤1.00", "")
	row("10 LWLock exclusive pairs, 2 processes contending", "ns/call", "s10", "ns_per_pair", "", "", "≤1.20", "")
	row("11 register → database connection ready", "µs", "s11", "latency_us", "fork_started", "latency_us", "≤1.00", "")
	row("12 SPI \"SELECT 1\" in a loop (per statement)", "µs/stmt", "s12", "us_per_stmt", "", "", "", "")
	row("13 SPI_execute_plan \"SELECT $1\" in a loop (per statement)", "µs/stmt", "s13", "us_per_stmt", "libpq_prepared", "us_per_stmt", "", "≤1.10")
	row("14 cursor fetch, 1,000,000 rows in chunks of 1,000", "rows/s", "s14", "rows_per_s", "", "", "", "")
	row("15 shape 1 beside a restart storm (restart time 0)", "µs", "s15", "latency_us", "", "", "", "")
	# Shape 15's target compares a side with itself: p50 beside the storm over p50 of shape 1.
	o = ratio(has("ours", "s15", "latency_us") ? p50("ours", "s15", "latency_us") : "",
			  has("ours", "s1", "latency_us") ? p50("ours", "s1", "latency_us") : "")
	g = ratio(has("pg", "s15", "latency_us") ? p50("pg", "s15", "latency_us") : "",
			  has("pg", "s1", "latency_us") ? p50("pg", "s1", "latency_us") : "")
	targets = 0; misses = 0
	judge(o, "≤1.50")
	emit("15 p50 beside the storm ÷ p50 of shape 1", "ratio", rfmt(o), "", rfmt(g), "", "", "", "",
		 rfmt(o), "≤1.50 (ours ÷ ours)")
	row("16 log lines through the logging collector, 4 workers", "lines/s", "s16", "lines_per_s", "", "", "", "")
	row("16 lines missing from the file, per 100,000", "lines", "s16", "lines_lost", "", "", "", "")
	row("17 shape 1 with a chatty worker beside it", "µs", "s17", "latency_us", "", "", "", "")
	# Shape 17's target compares a side with itself: beside a chatty worker over quiet (shape 1).
	o = ratio(has("ours", "s17", "latency_us") ? p50("ours", "s17", "latency_us") : "",
			  has("ours", "s1", "latency_us") ? p50("ours", "s1", "latency_us") : "")
	g = ratio(has("pg", "s17", "latency_us") ? p50("pg", "s17", "latency_us") : "",
			  has("pg", "s1", "latency_us") ? p50("pg", "s1", "latency_us") : "")
	targets = 0; misses = 0
	judge(o, "≤1.10")
	emit("17 p50 beside a chatty worker ÷ p50 quiet (shape 1)", "ratio", rfmt(o), "", rfmt(g), "", "", "", "",
		 rfmt(o), "≤1.10 (ours ÷ ours)")
	row("18 test_shm_mq regression script, all 5 calls", "ms", "s18", "set_ms", "", "", "≤1.00", "")
	row("18 test_shm_mq(1024, '', 2000, 1)", "ms", "s18", "case1_ms", "", "", "≤1.00", "")
	row("18 test_shm_mq(1024, 'a', 2001, 1)", "ms", "s18", "case2_ms", "", "", "≤1.00", "")
	row("18 test_shm_mq(32768, <100-1000 chars>, 10000, 1)", "ms", "s18", "case3_ms", "", "", "≤1.00", "")
	row("18 test_shm_mq(100, <100-300 chars>, 10000, 1)", "ms", "s18", "case4_ms", "", "", "≤1.00", "")
	row("18 test_shm_mq_pipelined(16384, <270000 chars>, 200, 3)", "ms", "s18", "case5_ms", "", "", "≤1.00", "")
	row("19 shm_mq round trip, 8 bytes, one worker", "µs/op", "s19", "latency_us", "", "", "", "")
	row("20 pipelined 270,000-byte messages, 3 workers (higher is better)", "MB/s", "s20", "mb_per_s", "", "", "", "")
	row("21 dsm_create + dsm_attach + dsm_detach, 64 kB", "µs/op", "s21", "latency_us", "", "", "", "")
	printf "\ntargets met: %d of %d rows (PASS/MISS judged on p50 ratios)\n", total_pass, total_pass + total_miss
	print "floor: rows 1, 2: fork → child running; 3: fork → child exits → waitpid; 5: fork storm" \
		" (forks/s); 8: fork → child running with 10/100/1,000 idle children alive;" \
		" 13: a bare libpq client's PQexecPrepared on the same socket"
}
