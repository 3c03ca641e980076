//! Stopping running Wasm from outside: [`InterruptHandle`], deadlines, and the timer thread.
//!
//! Code compiled with epoch checks (the default; `CompileOptions::epoch_interruption`)
//! compares `*epoch_ptr` (the process-wide epoch, never decreasing) with the store context's
//! `epoch_deadline` at every function entry and loop header, and calls the `new_epoch`
//! builtin when the epoch has reached the deadline; that builtin traps with `Interrupt` when
//! `epoch >= deadline` really holds. So writing `0` to a store's `epoch_deadline` makes the
//! next check of any Wasm running in that store trap, from any thread, within the time of
//! one loop iteration or call: that is all an interrupt does.
//!
//! Each store has one [`InterruptShared`] (behind an `Arc`, so handles outlive the store
//! safely): a mutex over the store context's address (0 once the store is dropped), the
//! epoch deadline the host asked for, and whether an interrupt is pending. Every write of
//! `epoch_deadline` from the Rust side happens under that mutex, with an atomic store, so an
//! interrupt cannot be lost to a concurrent `set_epoch_deadline`. The pending interrupt is
//! consumed (and the host's deadline restored) when the outermost call into the store
//! returns with an `Interrupt` trap; an interrupt that arrives after the guest's last check
//! stops the next call instead, at its first check.
//!
//! Deadlines ([`crate::Store::set_deadline`]) are served by one lazily started timer thread
//! that sleeps until the earliest armed deadline and then interrupts that store: no periodic
//! ticking, no cost while no deadline is armed, and latency of the order of the OS timer
//! slack plus one loop iteration of the guest.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use wasmc_abi::metadata::flags;

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
}

impl State {
    /// Writes the store context's `epoch_deadline` (atomically: compiled code may be reading
    /// it on another thread).
    fn write_deadline(&self, value: u64) {
        if self.ctx == 0 {
            return;
        }
        let ctx = self.ctx as *mut VMStoreContext;
        // SAFETY: `ctx` is the live store context (the store clears it under this lock
        // before freeing it); the field is 8-byte aligned (repr(C) struct of words) and
        // every concurrent Rust-side access to it is atomic or under this lock.
        unsafe {
            AtomicU64::from_ptr(&raw mut (*ctx).epoch_deadline).store(value, Ordering::SeqCst);
        }
    }

    fn interrupt(&mut self) {
        if self.ctx != 0 {
            self.pending = true;
            self.write_deadline(0);
        }
    }
}

impl InterruptShared {
    pub(crate) fn new(ctx: *mut VMStoreContext) -> Arc<InterruptShared> {
        Arc::new(InterruptShared {
            state: Mutex::new(State {
                ctx: ctx as usize,
                epoch_deadline: u64::MAX,
                pending: false,
            }),
            deadline_generation: AtomicU64::new(0),
        })
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

    /// Sets the host's epoch deadline (absolute epoch value).
    pub(crate) fn set_epoch_deadline(&self, deadline: u64) {
        let mut s = self.lock();
        s.epoch_deadline = deadline;
        if !s.pending {
            s.write_deadline(deadline);
        }
    }

    /// Called when the outermost call into the store returned an `Interrupt` trap: the
    /// pending interrupt has done its job; restore the host's epoch deadline.
    pub(crate) fn consume(&self) {
        let mut s = self.lock();
        if s.pending {
            s.pending = false;
            let d = s.epoch_deadline;
            s.write_deadline(d);
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
        timer().arm(at, generation, Arc::downgrade(self));
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
    /// at its next epoch check (a loop header or function entry), or, if none is running
    /// (or it has passed its last check), the next call at its first check. The caller of
    /// that call gets an error with [`crate::Error::is_interrupt`]; the store stays usable
    /// and later calls run normally. Code compiled without epoch checks is not stopped.
    pub fn interrupt(&self) {
        self.shared.lock().interrupt();
    }
}

/// The deadline timer: a min-heap of `(when, generation, store)` and the thread serving it.
struct Timer {
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
    generation: u64,
    target: Weak<InterruptShared>,
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

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(Queue {
                heap: BinaryHeap::new(),
                prune_at: MIN_PRUNE,
            }),
            wake: Condvar::new(),
        }));
        // The thread lives as long as the process; it sleeps while no deadline is armed.
        std::thread::Builder::new()
            .name("wasmc-deadlines".into())
            .spawn(move || t.run())
            .unwrap_or_else(|e| panic!("cannot start the wasmc deadline thread: {e}"));
        t
    })
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn arm(&self, at: Instant, generation: u64, target: Weak<InterruptShared>) {
        let mut q = self.lock();
        if q.heap.len() >= q.prune_at {
            q.heap.retain(|Reverse(e)| {
                e.target
                    .upgrade()
                    .is_some_and(|t| t.is_current(e.generation))
            });
            q.prune_at = (q.heap.len() * 2).max(MIN_PRUNE);
        }
        q.heap.push(Reverse(Entry {
            at,
            generation,
            target,
        }));
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
                    // Fire without holding the queue: firing takes the store's lock, and
                    // `set_deadline` never holds that one while arming.
                    drop(q);
                    if let Some(target) = e.target.upgrade() {
                        target.fire_deadline(e.generation);
                    }
                    q = self.lock();
                }
            }
        }
    }
}

impl Artifact {
    /// Whether the artifact's code checks the epoch (compiled with
    /// `CompileOptions::epoch_interruption(true)`, the default), so that deadlines and
    /// [`InterruptHandle::interrupt`] can stop it.
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

    #[test]
    fn interrupting_a_dropped_store_is_harmless() {
        let store = crate::Store::new(());
        let h = store.interrupt_handle();
        drop(store);
        h.interrupt();
    }
}
