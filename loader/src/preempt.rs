//! Stopping a loop without polling: which thread runs a store, and the signal that stops it.
//!
//! Code compiled with `interrupt_by_signal` (the default on Linux; artifact flag
//! `SIGNAL_INTERRUPTION`) has no check in its loops. To stop it, `interrupt.rs` sets the
//! store's interrupt word as always and then kicks the store ([`barrier_and_signal`]): it
//! sends [`SIGNAL`] to the
//! thread running the store's Wasm, whose handler (`traphandlers/unix.rs`) sends a pc inside
//! a Wasm function body of the store's code to the trap path, exactly as a fault would be.
//! Anywhere else (a trampoline, a builtin, the loader's own entry path) the handler does
//! nothing, and the kick is repeated ([`RETRY`], then twice as long each time, up to
//! [`MAX_RETRY`]) until the thread is stopped or no longer runs the store's Wasm.
//!
//! **Which thread.** `VMStoreContext::running_tid` holds the kernel id of the thread running
//! Wasm of the store, 0 while none does. The call path (`func::invoke`) sets it when the host
//! enters Wasm and restores the previous value after; a host function called from Wasm runs
//! with 0 (its shim restores the id when it returns), so the host's own code is never sent
//! the signal, and its system calls are not interrupted.
//!
//! **No lost stop.** Whenever a thread sets the id it then reads the interrupt word (the
//! entry's pending check, a host call's return check), and the stopper writes the word, then
//! reads the id. That is Dekker's pattern and needs a full barrier on both sides; the
//! running side is the hot one (every call), so the barrier is asymmetric: the stopper runs
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which makes every running thread of the
//! process execute a full barrier, and the running side needs only a compiler barrier. So
//! either the thread sees the word (and stops at once), or the stopper sees the id (and
//! signals, retrying until the pc is in a body). Where `membarrier` is unavailable (old
//! kernels, seccomp) the stopper uses a fence, and its first retry, which is armed whatever
//! the first kick found, closes the window of a few nanoseconds in which the two sides could
//! miss each other.
//!
//! **Which signal.** `SIGURG`, as Go's scheduler chose for preemption: its default action is
//! to ignore it (a stray one harms nothing), libc and debuggers leave it alone, and the rare
//! program that uses it (out-of-band socket data) must already cope with spurious ones. A
//! handler installed for it before ours is chained to for every `SIGURG` we do not act on.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering, compiler_fence, fence};
use std::time::Duration;

use crate::vmctx::VMStoreContext;

/// The signal that stops a thread running Wasm.
pub(crate) const SIGNAL: libc::c_int = libc::SIGURG;

/// How long a kick that found the thread outside a Wasm body waits before the next one. The
/// windows are short (a trampoline, a builtin, the entry path), so the first retry nearly
/// always lands; what remains is the time a builtin like a huge `memory.fill` runs, and each
/// further retry waits twice as long, up to [`MAX_RETRY`].
pub(crate) const RETRY: Duration = Duration::from_micros(500);

/// The longest wait between two kicks of one store.
pub(crate) const MAX_RETRY: Duration = Duration::from_millis(20);

thread_local! {
    /// This thread's kernel id once [`current_tid`] has asked for it; 0 before. Const and
    /// without a destructor, so the signal handler may read it.
    static TID: Cell<u64> = const { Cell::new(0) };
}

/// The kernel id of this thread (never 0).
#[inline]
pub(crate) fn current_tid() -> u64 {
    let tid = TID.with(Cell::get);
    if tid != 0 { tid } else { fetch_tid() }
}

#[cold]
fn fetch_tid() -> u64 {
    let tid = os::gettid();
    TID.with(|t| t.set(tid));
    tid
}

/// This thread's id as far as it is known, for the signal handler (0: this thread never ran
/// Wasm, so it runs none now).
pub(crate) fn known_tid() -> u64 {
    TID.with(Cell::get)
}

/// `running_tid` as an atomic.
///
/// # Safety
///
/// `ctx` is a live store context.
unsafe fn running<'a>(ctx: *mut VMStoreContext) -> &'a AtomicU64 {
    // SAFETY: per the contract; the field is an aligned word only ever accessed atomically.
    unsafe { AtomicU64::from_ptr(&raw mut (*ctx).running_tid) }
}

/// Sets the store's running thread to `tid` (0: none) and returns the previous value. Only
/// the thread that runs (or stops running) the store's Wasm calls this. A nonzero `tid` must
/// be followed by [`publish`] before the interrupt word is read.
///
/// # Safety
///
/// `ctx` is the live context of the store, on the thread running it.
#[inline]
pub(crate) unsafe fn set_running(ctx: *mut VMStoreContext, tid: u64) -> u64 {
    // SAFETY: per the contract.
    let slot = unsafe { running(ctx) };
    let prev = slot.load(Ordering::Relaxed);
    slot.store(tid, Ordering::Relaxed);
    prev
}

/// Puts back the running thread `set_running` returned (store only).
///
/// # Safety
///
/// As for [`set_running`].
#[inline]
pub(crate) unsafe fn restore_running(ctx: *mut VMStoreContext, tid: u64) {
    // SAFETY: per the contract.
    unsafe { running(ctx) }.store(tid, Ordering::Relaxed);
}

/// The running side's half of the barrier, between setting the running thread and reading
/// the interrupt word: only a compiler barrier. With `membarrier` the stopper's barrier
/// covers both sides. Without it the two sides may miss each other for the nanoseconds a
/// store takes to leave the store buffer, and the stopper's retry, [`RETRY`] later, finds
/// the thread (a retry ends only once no thread runs the store's Wasm). That relies on the
/// hardware draining store buffers in bounded time, which every real CPU does, not on a
/// guarantee of the language's memory model.
#[inline(always)]
pub(crate) fn publish() {
    compiler_fence(Ordering::SeqCst);
}

const UNKNOWN: u8 = 0;
const MEMBARRIER: u8 = 1;
const FENCE: u8 = 2;

/// Which barrier the stopper uses: decided once per process (registering for expedited
/// `membarrier` is idempotent, so threads racing to decide agree).
static BARRIER: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Decides the barrier (once the signal handler is installed, before any code stopped by
/// signal runs), and makes a child made by `fork` forget its parent's thread id: the child's
/// only thread has another one, and signalling the parent's would stop nothing.
pub(crate) fn init() {
    barrier_mode();
    os::forget_tid_in_fork_children();
}

/// In a child made by `fork`: the cached id is the parent thread's.
extern "C" fn forget_tid() {
    TID.with(|t| t.set(0));
}

fn barrier_mode() -> u8 {
    match BARRIER.load(Ordering::Relaxed) {
        UNKNOWN => {
            let mode = if os::register_membarrier() {
                MEMBARRIER
            } else {
                FENCE
            };
            BARRIER.store(mode, Ordering::Relaxed);
            mode
        }
        mode => mode,
    }
}

/// The stopper's half of the barrier, after setting interrupt words and before reading the
/// running threads: `membarrier` when registered, else a fence.
pub(crate) fn barrier() {
    if barrier_mode() != MEMBARRIER || !os::membarrier() {
        fence(Ordering::SeqCst);
    }
}

/// [`barrier`], then [`signal_running`]: the kick of one store whose word was just set.
///
/// # Safety
///
/// `ctx` is a live store context (the caller holds the store's interrupt lock).
pub(crate) unsafe fn barrier_and_signal(ctx: *mut VMStoreContext) {
    barrier();
    // SAFETY: per the contract.
    unsafe { signal_running(ctx) };
}

/// Sends [`SIGNAL`] to the thread running the store's Wasm, if one does; returns whether one
/// did.
///
/// # Safety
///
/// `ctx` is a live store context (the caller holds the store's interrupt lock).
pub(crate) unsafe fn signal_running(ctx: *mut VMStoreContext) -> bool {
    // SAFETY: per the contract.
    let tid = unsafe { running(ctx) }.load(Ordering::SeqCst);
    if tid != 0 {
        os::signal_thread(tid);
    }
    tid != 0
}

#[cfg(target_os = "linux")]
mod os {
    /// `MEMBARRIER_CMD_PRIVATE_EXPEDITED` (linux/membarrier.h).
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    /// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED`.
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    pub(super) fn gettid() -> u64 {
        // SAFETY: gettid has no preconditions and cannot fail.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) };
        u64::try_from(tid).unwrap_or(0)
    }

    pub(super) fn register_membarrier() -> bool {
        // SAFETY: registering the process for expedited barriers has no preconditions.
        unsafe { libc::syscall(libc::SYS_membarrier, CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 }
    }

    pub(super) fn membarrier() -> bool {
        // SAFETY: as above; the process registered before this is called.
        unsafe { libc::syscall(libc::SYS_membarrier, CMD_PRIVATE_EXPEDITED, 0, 0) == 0 }
    }

    pub(super) fn forget_tid_in_fork_children() {
        // SAFETY: registers a handler that only writes a thread-local of the calling thread.
        // Failure (out of memory) leaves a forked child unable to stop loops by signal,
        // which it would also be without the handler.
        unsafe { libc::pthread_atfork(None, None, Some(super::forget_tid)) };
    }

    /// Sends the signal to thread `tid` of this process. A thread that has exited makes this
    /// fail with `ESRCH`, harmlessly; an id reused by a new thread of the process gets a
    /// signal whose handler finds nothing to stop (its own store is not interrupted).
    pub(super) fn signal_thread(tid: u64) {
        let Ok(tid) = libc::pid_t::try_from(tid) else {
            return;
        };
        // SAFETY: tgkill only sends a signal; our handler for it is installed before any
        // store runs code that is stopped this way (`traphandlers::init_process`).
        unsafe {
            libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, super::SIGNAL);
        }
    }
}

/// Artifacts stopped by signal are only built for Linux targets and never load elsewhere;
/// these keep the rest of the loader target-independent.
#[cfg(not(target_os = "linux"))]
mod os {
    pub(super) fn gettid() -> u64 {
        1
    }

    pub(super) fn register_membarrier() -> bool {
        false
    }

    pub(super) fn membarrier() -> bool {
        false
    }

    pub(super) fn forget_tid_in_fork_children() {
        let _ = super::forget_tid;
    }

    pub(super) fn signal_thread(_tid: u64) {}
}
