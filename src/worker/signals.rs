//! Signal set-up in a worker: PostgreSQL's blocked/unblocked masks, `pqsignal`, and the default
//! dispositions a worker starts with (SIG-1..3, SIG-6).

use crate::pg::types::{pqsigfunc, FATAL};
use crate::pg::{BlockSig, MyBgworkerEntry, UnBlockSig};
use libc::c_int;

/// Fills `BlockSig` (everything but SIGQUIT and the synchronous signals) and `UnBlockSig` (only
/// SIGURG, which latch waits read from a signalfd).
pub fn init_signal_masks() {
    // SAFETY: single-threaded start-up; the sets are plain data owned by this process.
    unsafe {
        let block = &raw mut BlockSig;
        let unblock = &raw mut UnBlockSig;
        libc::sigfillset(block);
        for sig in [
            libc::SIGQUIT,
            libc::SIGTRAP,
            libc::SIGABRT,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGSYS,
            libc::SIGCONT,
        ] {
            libc::sigdelset(block, sig);
        }
        libc::sigemptyset(unblock);
        libc::sigaddset(unblock, libc::SIGURG);
    }
}

/// Sets the signal mask to `BlockSig`.
pub fn block_signals() {
    // SAFETY: installing a fully initialised mask.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &raw const BlockSig, std::ptr::null_mut()) };
}

/// Sets the signal mask to `UnBlockSig`.
pub fn unblock_signals() {
    // SAFETY: as above.
    unsafe {
        libc::sigprocmask(
            libc::SIG_SETMASK,
            &raw const UnBlockSig,
            std::ptr::null_mut(),
        )
    };
}

/// `pqsignal`: `SA_RESTART`, an empty handler mask (plus `SA_NOCLDSTOP` for SIGCHLD); returns
/// the previous handler, or `SIG_ERR` as a function pointer value.
pub fn pqsignal(signo: c_int, func: pqsigfunc) -> pqsigfunc {
    let handler = match func {
        Some(f) => f as *const () as usize,
        None => libc::SIG_DFL,
    };
    install(signo, handler).map_or_else(
        // SAFETY: SIG_ERR (-1) is how C callers recognise failure; they never call it.
        || unsafe { std::mem::transmute::<usize, pqsigfunc>(libc::SIG_ERR) },
        // SAFETY: the previous disposition is SIG_DFL (0, None), SIG_IGN (1) or a handler:
        // all are values C code expects back from pqsignal.
        |old| unsafe { std::mem::transmute::<usize, pqsigfunc>(old) },
    )
}

/// Installs a raw disposition; returns the old one.
pub fn install(signo: c_int, handler: usize) -> Option<usize> {
    // SAFETY: sigaction with zeroed, then fully set, structures we own.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        let mut old: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = handler;
        libc::sigemptyset(&mut act.sa_mask);
        act.sa_flags = libc::SA_RESTART;
        if signo == libc::SIGCHLD {
            act.sa_flags |= libc::SA_NOCLDSTOP;
        }
        if libc::sigaction(signo, &act, &mut old) < 0 {
            return None;
        }
        Some(old.sa_sigaction)
    }
}

/// The default SIGTERM handler of a worker: FATAL "terminating background worker ..." (SIG-1).
extern "C" fn bgworker_die(_signo: c_int) {
    block_signals();
    crate::elog::log(
        FATAL,
        format_args!(
            "terminating background worker \"{}\" due to administrator command",
            entry_type()
        ),
    );
    crate::worker::exit::proc_exit(1);
}

/// The default SIGQUIT handler: leave at once with exit code 2, no clean-up (the supervisor
/// treats that as a crash).
extern "C" fn quickdie(_signo: c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(2) };
}

/// `bgw_type` of this worker, for messages.
pub fn entry_type() -> String {
    // SAFETY: MyBgworkerEntry is NULL or this worker's private copy.
    let entry = unsafe { MyBgworkerEntry.as_ref() };
    entry.map_or_else(
        || "background worker".to_owned(),
        |e| crate::registry::field_string(&e.bgw_type),
    )
}

/// Installs the dispositions a worker starts with, then blocks everything but SIGQUIT.
pub fn install_worker_defaults() {
    install(libc::SIGTERM, bgworker_die as *const () as usize);
    install(libc::SIGQUIT, quickdie as *const () as usize);
    for sig in [
        libc::SIGINT,
        libc::SIGUSR1,
        libc::SIGFPE,
        libc::SIGHUP,
        libc::SIGUSR2,
        libc::SIGPIPE,
        libc::SIGALRM,
        libc::SIGURG,
    ] {
        install(sig, libc::SIG_IGN);
    }
    install(libc::SIGCHLD, libc::SIG_DFL);
    block_signals();
}

/// `procsignal_sigusr1_handler`: a worker installs it to be woken by notify signals (NTF-7);
/// here it sets the process latch, saving errno as a handler must.
pub extern "C" fn procsignal_sigusr1_handler(_signo: c_int) {
    let saved = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    // SAFETY: MyLatch is NULL or this process's latch; SetLatch is async-signal-safe.
    unsafe {
        let latch = crate::pg::MyLatch;
        if !latch.is_null() {
            crate::latch::set_latch(latch);
        }
        *libc::__errno_location() = saved;
    }
}
