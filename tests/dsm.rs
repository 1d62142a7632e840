//! Dynamic shared memory as PostgreSQL 15 modules use it (c_tests/modules/dsm_probe.c, built
//! against include/ and with PGXS against PostgreSQL 15's headers): segments passed by handle to
//! dynamic workers, detach callbacks, pins, resource owners, the table's limit; tables of
//! contents; message queues (every size, blocking and not, a peer that never started or was
//! killed); hash tables local and shared; condition variables; dsa and dshash. Each mode logs
//! `dsm_probe MODE: ...` lines, asserted here.

mod common;

use common::*;
use std::time::Duration;

/// What `mode`'s worker logged after `dsm_probe MODE: ` (its helpers' lines included).
fn lines_of(c: &Cluster, mode: &str) -> Vec<String> {
    let tag = format!("dsm_probe {mode}: ");
    c.log_lines()
        .iter()
        .filter_map(|l| l.find(&tag).map(|i| l[i + tag.len()..].to_string()))
        .collect()
}

/// Runs `modes` with the module built against `headers` and waits until each logged `done`.
fn run(modes: &[&str], headers: Headers) -> Cluster {
    let c = Setup::new()
        .env("DSM_PROBE", &modes.join(","))
        .module_built_with("dsm_probe", headers)
        .c("max_worker_processes=16")
        .start();
    for m in modes {
        c.wait_for_log(&format!("dsm_probe {m}: done"), Duration::from_secs(60));
    }
    let fails = c.lines_with(&["dsm_probe", "FAIL"]);
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    c
}

/// Asserts `mode` logged exactly `line`.
fn has(c: &Cluster, mode: &str, line: &str) {
    let got = lines_of(c, mode);
    assert!(
        got.iter().any(|l| l == line),
        "{mode} did not log {line:?}; it logged:\n{}",
        got.join("\n")
    );
}

fn both(modes: &[&str], check: impl Fn(&Cluster)) {
    for headers in [Headers::Ours, Headers::Postgres] {
        let c = run(modes, headers);
        check(&c);
    }
}

#[test]
fn segments_are_passed_by_handle_detached_with_callbacks_pinned_and_destroyed() {
    both(&["segments"], |c| {
        let m = "segments";
        has(c, m, "created: length 10000, zeroed 1, handle valid 1");
        has(c, m, "dsm_find_mapping finds it 1");
        has(
            c,
            m,
            "attaching it again raised ERROR: can't attach the same segment more than once",
        );
        has(c, m, "a worker attached it by handle and read it 1");
        has(c, m, "what the worker wrote back: \"read by a worker\"");
        has(c, m, "detach callbacks ran 2: 3 1");
        has(c, m, "the handle of a destroyed segment attaches to NULL 1");
        has(c, m, "dsm_find_mapping after detach is NULL 1");
        has(
            c,
            m,
            "pinning twice raised ERROR: cannot pin a segment that is already pinned",
        );
        has(
            c,
            m,
            "a pinned segment survives its last detach 1, content \"kept\"",
        );
        has(c, m, "unpinned with nobody attached, it is gone 1");
        has(
            c,
            m,
            "unpinning a destroyed segment raised ERROR: cannot unpin unknown segment handle",
        );
        has(
            c,
            m,
            "unpinning a segment that is not pinned raised ERROR: cannot unpin a segment that is not pinned",
        );
        has(
            c,
            m,
            "DSM_CREATE_NULL_IF_MAXSEGMENTS gave NULL after some segments 1",
        );
        has(
            c,
            m,
            "creating one more raised ERROR: too many dynamic shared memory segments",
        );
        has(c, m, "after detaching them a segment can be made again 1");
    });
}

#[test]
fn a_resource_owner_detaches_its_segments_and_warns_of_leaks_at_commit() {
    both(&["resowner"], |c| {
        let m = "resowner";
        has(c, m, "releasing the owner detached its segment 1");
        has(c, m, "a segment moved out with dsm_pin_mapping stays 1");
        has(
            c,
            m,
            "dsm_unpin_mapping gives it to the current owner (none): it stays 1",
        );
        has(c, m, "at commit it is detached too 1");
        let leaked = lines_of(c, m)
            .into_iter()
            .find_map(|l| l.strip_prefix("(local) leaked segment ").map(String::from))
            .expect("the leaked segment's handle");
        c.wait_for_log(
            &format!("WARNING:  dynamic shared memory leak: segment {leaked} still referenced"),
            PROMPT,
        );
    });
}

#[test]
fn a_table_of_contents_lays_out_chunks_and_finds_them_by_key() {
    both(&["toc"], |c| {
        let m = "toc";
        has(
            c,
            m,
            "estimate for chunks of 100 and 1000 bytes and 2 keys: 1248",
        );
        has(c, m, "free space 1184 before, 0 after");
        has(c, m, "chunks are buffer-aligned 1");
        has(c, m, "attach with another magic gives NULL 1");
        has(c, m, "lookup finds both 1");
        has(c, m, "missing key with noError is NULL 1");
        assert!(
            lines_of(c, m).iter().any(|l| l.starts_with(
                "(local) missing key raised ERROR: could not find key 42 in shm TOC at 0x"
            )),
            "{}",
            lines_of(c, m).join("\n")
        );
        has(
            c,
            m,
            "allocating past the end raised ERROR: out of shared memory",
        );
        has(c, m, "inserting a third key raised nothing");
        has(
            c,
            m,
            "inserting a fourth key raised ERROR: out of shared memory",
        );
    });
}

#[test]
fn message_queues_carry_messages_of_every_size_blocking_and_not() {
    both(&["mq"], |c| {
        let m = "mq";
        has(c, m, "shm_mq_minimum_size 64");
        has(c, m, "sender and receiver are set 1");
        has(
            c,
            m,
            "a second sender raised ERROR: shm_mq: the queue's sender is already set",
        );
        has(c, m, "shm_mq_get_queue 1");
        has(c, m, "wait for attach: 0");
        has(c, m, "empty message 1");
        has(c, m, "one byte 1");
        has(c, m, "as long as the ring 1");
        has(c, m, "ten times the ring 1");
        has(c, m, "200 messages of mixed lengths, all back intact: 200");
        has(
            c,
            m,
            "sendv of 3 pieces arrives as one message of 2008 bytes 1",
        );
        has(
            c,
            m,
            "non-blocking sends fill the queues, then: 1 (1 = would block)",
        );
        has(c, m, "everything sent without blocking came back intact 1");
        has(
            c,
            m,
            "after we detached, the worker left and our receive says: 2 (2 = detached)",
        );
    });
}

#[test]
fn a_queue_whose_worker_never_started_reads_detached_without_a_sigusr1_handler() {
    both(&["mq_never_started"], |c| {
        let m = "mq_never_started";
        has(
            c,
            m,
            "a blocking receive from a worker that never started: 2 (2 = detached)",
        );
        has(c, m, "waiting for it to attach: 2");
        has(c, m, "a blocking send longer than the ring: 2");
    });
}

#[test]
fn a_peer_killed_in_the_middle_of_a_receive_ends_it_with_detached_promptly() {
    for headers in [Headers::Ours, Headers::Postgres] {
        let c = Setup::new()
            .env("DSM_PROBE", "mq_peer_killed")
            .module_built_with("dsm_probe", headers)
            .start();
        let line = c.wait_for_log(
            "dsm_probe mq_peer_killed: waiting in a blocking receive; (local) the peer is PID ",
            PROMPT,
        );
        let pid = field_i32(&line, "the peer is PID ").expect("pid");
        c.track(pid);
        // The receiver is in its wait (its wait event says so) before the peer is killed.
        wait_until("the receiver waits in shm_mq_receive", PROMPT, || {
            status_json(&c)["workers"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|w| w["name"] == "dsm_probe mq_peer_killed")
        });
        std::thread::sleep(Duration::from_millis(200));
        let before = std::time::Instant::now();
        send_signal(pid, libc::SIGKILL);
        c.wait_for_log(
            "dsm_probe mq_peer_killed: the peer died without detaching; the receive says: 2 (2 = detached)",
            PROMPT,
        );
        assert!(
            before.elapsed() < Duration::from_secs(2),
            "took {:?}",
            before.elapsed()
        );
        c.wait_for_log(
            "dsm_probe mq_peer_killed: a send longer than the ring to it says: 2",
            PROMPT,
        );
        c.wait_for_log("dsm_probe mq_peer_killed: done", PROMPT);
        assert_eq!(
            c.count_log("terminating any other active server processes"),
            0,
            "a worker without shared-memory access dying restarts nothing"
        );
    }
}

#[test]
fn hash_tables_find_enter_remove_scan_and_hash_as_postgresql() {
    let h7 = bgworker::dsm::hashfn::hash_bytes_uint32(7) as i32;
    both(&["hash_local"], |c| {
        let m = "hash_local";
        has(c, m, "entered 10000 keys, 0 already there; 10000 entries");
        has(c, m, "found all with their values: 10000");
        has(c, m, "removed the even ones: 5000 entries");
        has(
            c,
            m,
            "a scan saw 5000 odd keys (removing some as it went); 2500 left",
        );
        has(
            c,
            m,
            &format!("get_hash_value of uint32 7: {h7}, hash_bytes_uint32(7): {h7}"),
        );
        // PostgreSQL 15: SELECT hashtext('abc') = -785388649.
        has(c, m, "hash_bytes of \"abc\": -785388649");
        has(c, m, "hash_update_hash_key moves 3 to 20001 1");
        has(c, m, "20001 finds that entry 1");
        has(c, m, "3 is gone 1");
        has(
            c,
            m,
            "a string key is cut to keysize - 1: \"a much longer n\"",
        );
        has(c, m, "found by a key with other bytes after its NUL 1");
        has(c, m, "a longer key with the same first 15 bytes finds it 1");
        has(
            c,
            m,
            "inserting into a frozen table raised ERROR: cannot insert into frozen hashtable \"dsm_probe names\"",
        );
    });
}

#[test]
fn shared_hash_tables_take_concurrent_inserts_under_partition_locks_and_keep_a_fixed_size() {
    both(&["hash_shared"], |c| {
        let m = "hash_shared";
        has(
            c,
            m,
            "4 workers inserted 1000 keys each under partition locks: 4000 entries",
        );
        has(c, m, "a scan under every partition lock saw them all: 4000");
        has(c, m, "a fixed-size table takes its 100 entries: 100");
        has(c, m, "HASH_ENTER_NULL beyond them gives NULL 1");
        has(
            c,
            m,
            "HASH_ENTER beyond them raised ERROR: out of shared memory",
        );
        has(c, m, "after a removal there is room again 1");
    });
}

#[test]
fn condition_variables_wake_one_or_all_across_processes_and_time_out() {
    both(&["cv"], |c| {
        let m = "cv";
        has(c, m, "nobody woken before the signal: 0");
        has(c, m, "one signal wakes one waiter: 1");
        has(c, m, "and only one: 1");
        has(c, m, "a broadcast wakes the other two: 3");
        has(
            c,
            m,
            "a timed sleep nobody signals times out 1 after 100 ms or more 1",
        );
    });
}

#[test]
fn a_dynamic_shared_area_and_a_dshash_table_are_shared_by_handle() {
    both(&["dsa"], |c| {
        let m = "dsa";
        has(c, m, "dsa_allocate0 gives zeros: 5000 of 5000");
        assert!(
            lines_of(c, m)
                .iter()
                .any(|l| l.starts_with("freeing it twice raised ERROR: dsa_free: ")),
            "{}",
            lines_of(c, m).join("\n")
        );
        has(c, m, "5 MB in one piece 1");
        has(
            c,
            m,
            "another worker attached the area, read the chunks and added to the table 1",
        );
        has(
            c,
            m,
            "the table holds what both processes put in: 1000 of 1000",
        );
        has(c, m, "dshash_delete_key 1, then it is gone 1");
        has(
            c,
            m,
            "a scan saw 999 entries and removed the even keys: 499 left",
        );
        has(c, m, "past the size limit with DSA_ALLOC_NO_OOM: invalid 1");
        has(c, m, "past the size limit raised ERROR: out of memory");
        has(c, m, "pinning twice raised ERROR: dsa_area already pinned");
        has(
            c,
            m,
            "a pinned area survives its last detach: chunk 3 still reads 3 1",
        );
        has(c, m, "unpinning twice raised ERROR: dsa_area not pinned");
        has(
            c,
            m,
            "attaching an area that is gone raised ERROR: could not attach to dynamic shared area",
        );
    });
}
