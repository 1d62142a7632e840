//! The supervisor's registration list, indexed so that each event — a registration, a start, an
//! exit, a due restart — costs the same however many workers sit idle (the performance model).

use super::RegisteredWorker;
use crate::pg::types::{BgWorkerStart_PostmasterStart, BgWorkerStart_RecoveryFinished};
use libc::pid_t;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

/// A registration's handle inside the list (stable while it is registered).
pub type Id = usize;

#[derive(Default)]
pub struct List {
    entries: Vec<Option<RegisteredWorker>>,
    free_ids: Vec<Id>,
    next_seq: u64,
    by_pid: HashMap<pid_t, Id>,
    by_slot: HashMap<usize, Id>,
    /// Not running and not waiting out a restart interval, newest registration first: the
    /// order PostgreSQL examines its list in (REG-8).
    ready: BTreeSet<(Reverse<u64>, Id)>,
    /// Waiting out a restart interval: (when due, id).
    restarting: BTreeSet<(Instant, Id)>,
    running: usize,
}

/// Start times a worker can ever start with; others are accepted and never start (SAN-6).
fn startable(w: &RegisteredWorker) -> bool {
    (BgWorkerStart_PostmasterStart..=BgWorkerStart_RecoveryFinished).contains(&w.def.bgw_start_time)
}

impl List {
    /// Room for `n` registrations, so that registering and starting workers never grows (and
    /// moves) the list or its indexes while workers are alive.
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n.saturating_sub(self.entries.len()));
        self.free_ids.reserve(n);
        self.by_pid.reserve(n);
        self.by_slot.reserve(n);
    }

    pub fn len(&self) -> usize {
        self.entries.len() - self.free_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a registration (not running); it is ready to start.
    pub fn insert(&mut self, mut w: RegisteredWorker) -> Id {
        w.seq = self.next_seq;
        self.next_seq += 1;
        let id = match self.free_ids.pop() {
            Some(id) => id,
            None => {
                self.entries.push(None);
                self.entries.len() - 1
            }
        };
        if let Some(slot) = w.slot {
            self.by_slot.insert(slot, id);
        }
        if startable(&w) {
            self.ready.insert((Reverse(w.seq), id));
        }
        self.entries[id] = Some(w);
        id
    }

    /// Takes a registration out of the list and every index.
    pub fn remove(&mut self, id: Id) -> RegisteredWorker {
        let w = self.entries[id].take().expect("registered id");
        self.free_ids.push(id);
        self.ready.remove(&(Reverse(w.seq), id));
        if let Some(due) = w.due {
            self.restarting.remove(&(due, id));
        }
        if w.pid > 0 {
            self.by_pid.remove(&w.pid);
            self.running -= 1;
        }
        if let Some(slot) = w.slot {
            if self.by_slot.get(&slot) == Some(&id) {
                self.by_slot.remove(&slot);
            }
        }
        w
    }

    pub fn get(&self, id: Id) -> &RegisteredWorker {
        self.entries[id].as_ref().expect("registered id")
    }

    pub fn get_mut(&mut self, id: Id) -> &mut RegisteredWorker {
        self.entries[id].as_mut().expect("registered id")
    }

    pub fn id_by_pid(&self, pid: pid_t) -> Option<Id> {
        self.by_pid.get(&pid).copied()
    }

    pub fn id_by_slot(&self, slot: usize) -> Option<Id> {
        self.by_slot.get(&slot).copied()
    }

    /// Gives a registration a (new) slot.
    pub fn set_slot(&mut self, id: Id, slot: Option<usize>, generation: u64) {
        let w = self.entries[id].as_mut().expect("registered id");
        if let Some(old) = w.slot.take() {
            self.by_slot.remove(&old);
        }
        w.slot = slot;
        w.generation = generation;
        if let Some(s) = slot {
            self.by_slot.insert(s, id);
        }
    }

    /// Records that the registration now runs as `pid`.
    pub fn started(&mut self, id: Id, pid: pid_t) {
        let w = self.entries[id].as_mut().expect("registered id");
        self.ready.remove(&(Reverse(w.seq), id));
        if let Some(due) = w.due.take() {
            self.restarting.remove(&(due, id));
        }
        w.pid = pid;
        self.by_pid.insert(pid, id);
        self.running += 1;
    }

    /// Records that its process is gone; the caller decides what happens next.
    pub fn exited(&mut self, id: Id) {
        let w = self.entries[id].as_mut().expect("registered id");
        if w.pid > 0 {
            self.by_pid.remove(&w.pid);
            self.running -= 1;
        }
        w.pid = 0;
    }

    /// Makes a registration wait until `due` before it is considered again.
    pub fn schedule(&mut self, id: Id, due: Instant) {
        let w = self.entries[id].as_mut().expect("registered id");
        self.ready.remove(&(Reverse(w.seq), id));
        if let Some(old) = w.due.replace(due) {
            self.restarting.remove(&(old, id));
        }
        self.restarting.insert((due, id));
    }

    /// Moves every registration whose wait is over to the ready set.
    pub fn promote_due(&mut self, now: Instant) {
        while let Some(&(due, id)) = self.restarting.first() {
            if due > now {
                break;
            }
            self.restarting.pop_first();
            let w = self.entries[id].as_mut().expect("registered id");
            w.due = None;
            if startable(w) {
                self.ready.insert((Reverse(w.seq), id));
            }
        }
    }

    /// Makes every registration that is not running ready at once (crash re-initialisation).
    pub fn all_ready(&mut self) {
        self.restarting.clear();
        for (id, w) in self.entries.iter_mut().enumerate() {
            if let Some(w) = w {
                w.due = None;
                if w.pid == 0 && startable(w) {
                    self.ready.insert((Reverse(w.seq), id));
                }
            }
        }
    }

    /// When the next waiting registration is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.restarting.first().map(|&(due, _)| due)
    }

    /// The ready registrations, in launch order.
    /// The ready registrations, in start order, into `out` (a buffer the caller keeps).
    pub fn ready_ids_into(&self, out: &mut Vec<Id>) {
        out.extend(self.ready.iter().map(|&(_, id)| id));
    }

    pub fn running(&self) -> usize {
        self.running
    }

    /// Pids of running workers.
    pub fn running_pids(&self) -> Vec<pid_t> {
        self.by_pid.keys().copied().collect()
    }

    /// Every registration id, in list order (newest first).
    pub fn ids(&self) -> Vec<Id> {
        let mut ids: Vec<(Reverse<u64>, Id)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(id, w)| w.as_ref().map(|w| (Reverse(w.seq), id)))
            .collect();
        ids.sort_unstable();
        ids.into_iter().map(|(_, id)| id).collect()
    }
}
