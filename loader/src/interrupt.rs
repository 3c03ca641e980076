//! Stopping running Wasm from outside: [`InterruptHandle`], deadlines, and the timer thread.
//!
//! Everything that can stop a store comes down to setting the store context's `interrupt`
//! word, from any thread. `func::invoke` reads it before the host enters Wasm, and loops see
//! it one of two ways (`CompileOptions::interrupt_by_signal`):
//! - **by signal** (the default on Linux): the loops carry no check. Setting the word also
//!   kicks the store ([`crate::preempt`]): the thread running its Wasm gets a signal whose
//!   handler sends it to the trap path if its pc is in a Wasm function body, and a host
//!   function returning to Wasm reads the word. Stopped within the signal's delivery time
//!   when the thread is in a Wasm body, else at the next retry (0.5 ms, doubling).
//! - **by check**: every loop header reads the word and traps with `Interrupt` when it is
//!   nonzero (one load and one branch); stopped within one loop iteration.
//!
//! Function entries have no check of their own. Every function that calls or has a stack
//! frame begins with Cranelift's stack-limit check against the store context's
//! `stack_limit`, and whenever the word is set the loader also sets that limit to
//! `STACK_LIMIT_INTERRUPTED`, which no stack pointer passes; `func::invoke` reports the
//! failed check as `Interrupt` (`stack_limit_interrupted`). So recursion and call chains are
//! stopped at their next call at no cost while running (Wasmtime loads and compares its
//! epoch at every entry). The limit is only ever written with atomic stores: by the thread
//! running the store (the real limit, when its outermost call enters Wasm, and on
//! withdrawing a stop), and by `State::sync` from any thread, which sets the interrupted
//! limit when the store must stop and restores the real one only where it finds the
//! interrupted one (so a sync from another thread, which never withdraws a stop, cannot
//! write a stale limit). Entering re-reads the word after writing the real limit, and a sync
//! writes the word before the limit, so one of them sees the other (`enter_wasm`). Code
//! compiled without epoch checks is stopped at function entries too, but never in a loop.
//!
//! Each store has one [`InterruptShared`] (behind an `Arc`, so handles outlive the store
//! safely): a mutex over the store context's address (0 once the store is dropped), the
//! epoch deadline the host asked for, and whether an interrupt is pending. The word is a
//! function of that state (`State::must_stop`: an interrupt is pending, or the process-wide
//! epoch has reached the deadline), and it is only ever written by `State::sync`, under the
//! mutex, with an atomic store, so an interrupt cannot be lost to a concurrent
//! `set_epoch_deadline`. A store with an epoch deadline joins a registry that
//! [`crate::increment_epoch`] walks to set the word of every store whose deadline the new
//! epoch reaches: the cost of epochs is paid per increment, not in every loop. The pending
//! interrupt is consumed when the outermost call into the store returns with an `Interrupt`
//! trap; an interrupt that arrives after the guest's last check stops the next call instead,
//! at its first check.
//!
//! Deadlines ([`crate::Store::set_deadline`]) are served by one lazily started timer thread
//! that sleeps until the earliest armed deadline and then interrupts that store: no periodic
//! ticking, no cost while no deadline is armed, and latency of the order of the OS timer
//! slack plus the signal's delivery (or one loop iteration, for code with loop checks).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use wasmc_abi::metadata::flags;
use wasmc_abi::vmoffsets::store_ctx::STACK_LIMIT_INTERRUPTED;

use crate::artifact::Artifact;
use crate::vmctx::VMStoreContext;

/// The interrupt state of one store, shared with its [`InterruptHandle`]s and the timer.
#[derive(Debug)]
pub(crate) struct InterruptShared {
    state: Mutex<State>,
    /// Bumped by every `set_deadline`/`clear_deadline`; a timer entry of an older
    /// generation is stale and does nothing. Atomic so the timer can prune stale entries
    /// without taking the lock.
    deadline_generation: AtomicU64,
}

#[derive(Debug)]
struct State {
    /// Address of the store's `VMStoreContext`; 0 once the store is gone.
    ctx: usize,
    /// The epoch deadline the host set (`u64::MAX`: none).
    epoch_deadline: u64,
    /// An interrupt was requested and has not stopped a call yet.
    pending: bool,
    /// The store is in the epoch registry (it joins the first time it gets a deadline).
    registered: bool,
    /// The store has code stopped by signal (`preempt.rs`): stopping it kicks its thread.
    signal: bool,
    /// The process (id) in which a retried kick is armed on the timer, 0 if none is: after a
    /// `fork` the child's timer has none of the parent's entries.
    kick_armed_in: u32,
    /// The delay of the next retried kick (doubling, see `preempt::RETRY`).
    kick_delay: Duration,
    /// This state's own `Arc`, for arming the timer.
    me: Weak<InterruptShared>,
}

impl State {
    /// Whether Wasm running in the store must stop now.
    fn must_stop(&self) -> bool {
        self.pending || crate::current_epoch() >= self.epoch_deadline
    }

    /// Writes the store context's `interrupt` word and stack limit from the state, and kicks
    /// the thread running the store if the word has just been set.
    fn sync(&mut self) {
        if self.sync_words() {
            // SAFETY: `ctx` is live (`sync_words` only asks for a kick of a live store) and
            // we hold the store's lock.
            unsafe { crate::preempt::barrier_and_signal(self.ctx as *mut VMStoreContext) };
            self.kick_later();
        }
    }

    /// Writes the store context's `interrupt` word and stack limit from the state
    /// (atomically: compiled code may be reading them on another thread). Returns whether the
    /// store must now be kicked: the word was just set and the store has code stopped by
    /// signal.
    fn sync_words(&mut self) -> bool {
        if self.ctx == 0 {
            return false;
        }
        let ctx = self.ctx as *mut VMStoreContext;
        let stop = self.must_stop();
        // SAFETY: `ctx` is the live store context (the store clears it under this lock
        // before freeing it); the fields are 8-byte aligned (repr(C) struct of words) and
        // every concurrent access to them is atomic or under this lock.
        let (word, limit, real) = unsafe { words(ctx) };
        let was = word.swap(u64::from(stop), Ordering::SeqCst);
        if stop {
            limit.store(INTERRUPTED_LIMIT, Ordering::SeqCst);
            was == 0 && self.signal
        } else {
            // Only a stop withdrawn on the store's own thread gets here with the interrupted
            // limit in place (from other threads `must_stop` only ever becomes true), and
            // there `wasm_stack_limit` is that thread's current one.
            let _ = limit.compare_exchange(
                INTERRUPTED_LIMIT,
                real.load(Ordering::SeqCst),
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
            false
        }
    }

    /// Arms the timer to kick the store again unless that is armed already. Armed even when
    /// the kick found no thread running, in case the barrier was a plain fence.
    fn kick_later(&mut self) {
        let pid = std::process::id();
        if self.kick_armed_in != pid {
            self.kick_armed_in = pid;
            self.kick_delay = crate::preempt::RETRY;
            timer().arm(
                Instant::now() + self.kick_delay,
                Fire::Kick,
                self.me.clone(),
            );
        }
    }

    fn interrupt(&mut self) {
        if self.ctx != 0 {
            self.pending = true;
            self.sync();
        }
    }
}

impl InterruptShared {
    pub(crate) fn new(ctx: *mut VMStoreContext) -> Arc<InterruptShared> {
        Arc::new_cyclic(|me| InterruptShared {
            state: Mutex::new(State {
                ctx: ctx as usize,
                epoch_deadline: u64::MAX,
                pending: false,
                registered: false,
                signal: false,
                kick_armed_in: 0,
                kick_delay: crate::preempt::RETRY,
                me: me.clone(),
            }),
            deadline_generation: AtomicU64::new(0),
        })
    }

    /// The store has code stopped by signal: from now on stopping it also kicks the thread
    /// running it.
    pub(crate) fn enable_signals(&self) {
        let mut s = self.lock();
        if !s.signal {
            s.signal = true;
            // Installs the handler (and decides the barrier) before any such code runs.
            crate::traphandlers::init_interrupt_signal();
        }
    }

    /// The timer's retry of a kick: signals the store's running thread again while the store
    /// must stop and some thread runs its Wasm; returns when to retry once more, if at all.
    /// The delay doubles from `preempt::RETRY` up to `preempt::MAX_RETRY`, so a thread that
    /// stays long outside a Wasm body (a long builtin) gets few signals.
    fn kick_again(&self) -> Option<Duration> {
        let mut s = self.lock();
        // SAFETY: a nonzero `ctx` is live while we hold the lock.
        let again = s.ctx != 0
            && s.must_stop()
            && unsafe { crate::preempt::signal_running(s.ctx as *mut VMStoreContext) };
        if !again {
            s.kick_armed_in = 0;
            return None;
        }
        s.kick_delay = (s.kick_delay * 2).min(crate::preempt::MAX_RETRY);
        Some(s.kick_delay)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is one field.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The store is going away: no more writes to its context.
    pub(crate) fn detach(&self) {
        self.lock().ctx = 0;
    }

    /// Sets the host's epoch deadline (absolute epoch value; `u64::MAX` for none).
    pub(crate) fn set_epoch_deadline(self: &Arc<Self>, deadline: u64) {
        let join = {
            let mut s = self.lock();
            s.epoch_deadline = deadline;
            s.sync();
            deadline != u64::MAX && s.ctx != 0 && !std::mem::replace(&mut s.registered, true)
        };
        if join {
            // Joined with this store's lock released: `epoch_advanced` takes the registry
            // lock first, then stores' locks.
            let mut stores = registry();
            // Forget stores that are gone whenever the list doubles, so a host that makes
            // many short-lived stores with deadlines and rarely increments the epoch does not
            // grow it without bound (amortised O(1) per store).
            if stores.len() >= 64 && stores.len().is_power_of_two() {
                stores.retain(|w| w.strong_count() > 0);
            }
            stores.push(Arc::downgrade(self));
            drop(stores);
            // An increment between the deadline and joining did not see this store.
            self.lock().sync();
        }
    }

    /// Called when the outermost call into the store returned an `Interrupt` trap: the
    /// pending interrupt has done its job; restore the host's epoch deadline.
    pub(crate) fn consume(&self) {
        let mut s = self.lock();
        if s.pending {
            s.pending = false;
            s.sync();
        }
    }

    /// Withdraws a pending interrupt that has not stopped anything yet.
    pub(crate) fn clear_pending(&self) {
        self.consume();
    }

    /// Arms a deadline `after` from now (replacing any earlier one).
    pub(crate) fn set_deadline(self: &Arc<Self>, after: Duration) {
        let generation = self.deadline_generation.fetch_add(1, Ordering::SeqCst) + 1;
        // `Instant + Duration` panics on overflow; a deadline that far away is no deadline.
        let Some(at) = Instant::now().checked_add(after) else {
            return;
        };
        timer().arm(at, Fire::Deadline(generation), Arc::downgrade(self));
    }

    /// Disarms the deadline (a pending interrupt it already raised stays pending).
    pub(crate) fn clear_deadline(&self) {
        self.deadline_generation.fetch_add(1, Ordering::SeqCst);
    }

    fn fire_deadline(&self, generation: u64) {
        let mut s = self.lock();
        // Checked under the lock: a `set_deadline` racing with this either bumped the
        // generation before (stale, nothing happens) or comes after the interrupt.
        if self.deadline_generation.load(Ordering::SeqCst) == generation {
            s.interrupt();
        }
    }

    fn is_current(&self, generation: u64) -> bool {
        self.deadline_generation.load(Ordering::Relaxed) == generation
    }
}

/// `STACK_LIMIT_INTERRUPTED` as an address (the loader is 64-bit only).
const INTERRUPTED_LIMIT: usize = usize::MAX - 32 * 1024 + 1;
const _: () = assert!(INTERRUPTED_LIMIT as u64 == STACK_LIMIT_INTERRUPTED);

/// The store context's `interrupt` word, `stack_limit` and `wasm_stack_limit`, as atomics.
///
/// # Safety
///
/// `ctx` is a live store context, and every concurrent access to these fields is atomic.
unsafe fn words<'a>(ctx: *mut VMStoreContext) -> (&'a AtomicU64, &'a AtomicUsize, &'a AtomicUsize) {
    // SAFETY: per the contract; the fields are aligned words.
    unsafe {
        (
            AtomicU64::from_ptr(&raw mut (*ctx).interrupt),
            AtomicUsize::from_ptr(&raw mut (*ctx).stack_limit),
            AtomicUsize::from_ptr(&raw mut (*ctx).wasm_stack_limit),
        )
    }
}

/// The outermost call into a store enters Wasm with stack limit `real`: installs it, or the
/// interrupted limit if the store must stop.
///
/// When the limit of the previous entry is still in place (the host calls in from the same
/// stack depth, the common case), nothing is written: a stop set since then either left
/// the interrupted limit there (not `real`, so the slow path below runs) or lands after this
/// load, where the guest's next check sees it. Otherwise a stop set on another thread at the
/// same moment is not lost: `State::sync` stores the word before the limit (sequentially
/// consistent), this stores the limit, then a sequentially consistent fence, then reads the
/// word, so either this reads the word as set or the sync's limit lands after ours. One
/// fence on the slow path and none on the fast one: each is a full barrier on x86 (the
/// two sequentially consistent stores this used to do cost about 12 ns per call).
///
/// The limit is left in place when the call returns (`func::invoke`): nothing reads it
/// while no Wasm of the store runs, and the next entry finds it there.
///
/// # Safety
///
/// `ctx` is the live context of the store, on the thread running it.
#[inline]
pub(crate) unsafe fn enter_wasm(ctx: *mut VMStoreContext, real: usize) {
    // SAFETY: per the contract.
    let (word, limit, wasm_limit) = unsafe { words(ctx) };
    // Only this thread writes `wasm_limit`, and `limit` other than the interrupted value.
    if limit.load(Ordering::Relaxed) == real && wasm_limit.load(Ordering::Relaxed) == real {
        return;
    }
    wasm_limit.store(real, Ordering::Relaxed);
    limit.store(real, Ordering::Relaxed);
    std::sync::atomic::fence(Ordering::SeqCst);
    if word.load(Ordering::Relaxed) != 0 {
        limit.store(INTERRUPTED_LIMIT, Ordering::SeqCst);
    }
}

/// Whether the store's stack limit is the interrupted one, so a failed stack-limit check
/// was a stop, not an overflow.
///
/// # Safety
///
/// `ctx` is the live context of the store.
pub(crate) unsafe fn stack_limit_interrupted(ctx: *mut VMStoreContext) -> bool {
    // SAFETY: per the contract.
    let (_, limit, _) = unsafe { words(ctx) };
    limit.load(Ordering::SeqCst) == INTERRUPTED_LIMIT
}

/// Stops Wasm running in a store, from any thread: see [`crate::Store::interrupt_handle`].
///
/// Cheap to clone; `Send + Sync`. Outliving the store is harmless: interrupting a dropped
/// store does nothing.
#[derive(Debug, Clone)]
pub struct InterruptHandle {
    pub(crate) shared: Arc<InterruptShared>,
}

impl InterruptHandle {
    /// Makes the Wasm call running in the store trap with [`wasmc_abi::TrapCode::Interrupt`]
    /// wherever it is (code stopped by signal, the default on Linux) or at its next check (a
    /// loop header or the entry of a function that calls), or, if none is running
    /// (or it has passed its last check), the next call at its first check. The caller of
    /// that call gets an error with [`crate::Error::is_interrupt`]; the store stays usable
    /// and later calls run normally. Code compiled without interruption is stopped only at
    /// the entry of a function that calls and when a host function returns to it.
    pub fn interrupt(&self) {
        self.shared.lock().interrupt();
    }
}

/// The stores that have (or had) an epoch deadline, for [`epoch_advanced`].
fn registry() -> MutexGuard<'static, Vec<Weak<InterruptShared>>> {
    static REGISTRY: Mutex<Vec<Weak<InterruptShared>>> = Mutex::new(Vec::new());
    // A panic while holding it cannot leave the list inconsistent (pushes and retains).
    REGISTRY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The process-wide epoch has advanced: sets the interrupt word of every store whose epoch
/// deadline it reaches, and forgets stores that are gone.
pub(crate) fn epoch_advanced() {
    // Words first, then one barrier for all the stores to kick (each is an interrupt to every
    // CPU running a thread of the process), then the signals.
    let mut kick = Vec::new();
    let mut registry = registry();
    registry.retain(|store| {
        let Some(store) = store.upgrade() else {
            return false;
        };
        let mut s = store.lock();
        if s.sync_words() {
            kick.push(store.clone());
        }
        s.ctx != 0
    });
    drop(registry);
    if kick.is_empty() {
        return;
    }
    crate::preempt::barrier();
    for store in kick {
        let mut s = store.lock();
        if s.ctx != 0 && s.must_stop() {
            // SAFETY: a nonzero `ctx` is live while we hold the lock.
            unsafe { crate::preempt::signal_running(s.ctx as *mut VMStoreContext) };
            s.kick_later();
        }
    }
}

/// The deadline timer: a min-heap of `(when, generation, store)` and the thread serving it.
struct Timer {
    /// The process whose thread serves it.
    pid: u32,
    queue: Mutex<Queue>,
    wake: Condvar,
}

struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    /// Size at which stale entries (replaced deadlines, dropped stores) are pruned, so a
    /// host re-arming long deadlines at a high rate does not grow the heap without bound.
    prune_at: usize,
}

const MIN_PRUNE: usize = 1024;

struct Entry {
    at: Instant,
    fire: Fire,
    target: Weak<InterruptShared>,
}

/// What a timer entry does when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fire {
    /// Interrupt the store if its deadline of this generation is still the armed one.
    Deadline(u64),
    /// Kick the store's running thread again (`preempt.rs`).
    Kick,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

/// The timer of this process. A child made by `fork` has none of its parent's threads, so it
/// starts its own (the parent's, with its queue and whatever lock state it had, is left
/// alone); deadlines armed before the fork do not fire in the child.
fn timer() -> &'static Timer {
    static TIMER: AtomicPtr<Timer> = AtomicPtr::new(std::ptr::null_mut());
    let pid = std::process::id();
    let current = TIMER.load(Ordering::Acquire);
    // SAFETY: a non-null pointer is a leaked `Timer`, never freed.
    if let Some(t) = unsafe { current.as_ref() }
        && t.pid == pid
    {
        return t;
    }
    let t: &'static Timer = Box::leak(Box::new(Timer {
        pid,
        queue: Mutex::new(Queue {
            heap: BinaryHeap::new(),
            prune_at: MIN_PRUNE,
        }),
        wake: Condvar::new(),
    }));
    let ptr = std::ptr::from_ref(t).cast_mut();
    match TIMER.compare_exchange(current, ptr, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            // The thread lives as long as the process; it sleeps while nothing is armed.
            std::thread::Builder::new()
                .name("wasmc-deadlines".into())
                .spawn(move || t.run())
                .unwrap_or_else(|e| panic!("cannot start the wasmc deadline thread: {e}"));
            t
        }
        // Another thread installed one first: use it (ours leaks, a few hundred bytes once).
        // SAFETY: as above.
        Err(other) => unsafe { &*other },
    }
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn arm(&self, at: Instant, fire: Fire, target: Weak<InterruptShared>) {
        let mut q = self.lock();
        if q.heap.len() >= q.prune_at {
            q.heap.retain(|Reverse(e)| {
                e.target.upgrade().is_some_and(|t| match e.fire {
                    Fire::Deadline(generation) => t.is_current(generation),
                    Fire::Kick => true,
                })
            });
            q.prune_at = (q.heap.len() * 2).max(MIN_PRUNE);
        }
        q.heap.push(Reverse(Entry { at, fire, target }));
        drop(q);
        self.wake.notify_one();
    }

    fn run(&self) {
        let mut q = self.lock();
        loop {
            let now = Instant::now();
            match q.heap.peek() {
                None => {
                    q = self
                        .wake
                        .wait(q)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
                Some(Reverse(e)) if e.at > now => {
                    let wait = e.at - now;
                    q = self
                        .wake
                        .wait_timeout(q, wait)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0;
                }
                Some(_) => {
                    let Some(Reverse(e)) = q.heap.pop() else {
                        continue;
                    };
                    // Fire without holding the queue: firing takes the store's lock, and a
                    // store's lock is held while arming (taking the queue's).
                    drop(q);
                    if let Some(target) = e.target.upgrade() {
                        match e.fire {
                            Fire::Deadline(generation) => target.fire_deadline(generation),
                            Fire::Kick => {
                                if let Some(delay) = target.kick_again() {
                                    self.arm(Instant::now() + delay, Fire::Kick, e.target.clone());
                                }
                            }
                        }
                    }
                    q = self.lock();
                }
            }
        }
    }
}

impl Artifact {
    /// Whether the artifact's code can be stopped in its loops (compiled with
    /// `CompileOptions::epoch_interruption(true)`, the default: by signal on Linux, by loop
    /// checks on macOS), so that deadlines and [`InterruptHandle::interrupt`] can stop it.
    pub fn is_interruptible(&self) -> bool {
        self.inner.header.flags & flags::EPOCH_INTERRUPTION != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rearming_long_deadlines_does_not_grow_the_timer_queue() {
        let mut store = crate::Store::new(());
        for _ in 0..10_000 {
            store.set_deadline(Duration::from_secs(3600)).unwrap();
        }
        // Other tests may have entries too, but not thousands.
        let len = timer().lock().heap.len();
        assert!(len <= 2 * MIN_PRUNE + 64, "{len} entries");
    }

    fn interrupt_word(store: &crate::Store<()>) -> u64 {
        let ctx = store.opaque.ctx_ptr();
        // SAFETY: the store's live context; the word is only written atomically.
        unsafe { AtomicU64::from_ptr(&raw mut (*ctx).interrupt) }.load(Ordering::SeqCst)
    }

    #[test]
    fn increment_epoch_sets_the_word_of_stores_whose_deadline_it_reaches() {
        // No other test of this binary moves the epoch.
        let near = {
            let mut s = crate::Store::new(());
            s.set_epoch_deadline(1);
            s
        };
        let mut far = crate::Store::new(());
        far.set_epoch_deadline(1_000_000);
        let gone = {
            let mut s = crate::Store::new(());
            s.set_epoch_deadline(1);
            s
        };
        let no_deadline = crate::Store::new(());
        assert_eq!((interrupt_word(&near), interrupt_word(&far)), (0, 0));
        let registered = registry().len();
        drop(gone);
        crate::increment_epoch();
        assert_eq!(
            interrupt_word(&near),
            1,
            "the passed deadline stops the store"
        );
        assert_eq!(interrupt_word(&far), 0, "a later deadline does not");
        assert_eq!(interrupt_word(&no_deadline), 0, "nor does having none");
        assert!(
            registry().len() < registered,
            "the dropped store left the registry"
        );
        // A deadline set after the epoch passed it stops at once; moving it on clears it.
        far.set_epoch_deadline(0);
        assert_eq!(interrupt_word(&far), 1);
        far.set_epoch_deadline(5);
        assert_eq!(interrupt_word(&far), 0);
    }

    #[test]
    fn interrupting_a_dropped_store_is_harmless() {
        let store = crate::Store::new(());
        let h = store.interrupt_handle();
        drop(store);
        h.interrupt();
    }
}
