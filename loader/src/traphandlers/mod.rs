//! Turning faults in Wasm code into [`crate::Trap`]s.
//!
//! The call path (`func.rs`) pushes an [`Activation`] (on its own stack frame) and publishes
//! it in a thread-local before calling an entry trampoline. When compiled code faults, the
//! signal handler (`unix.rs`) finds the activation, checks that the pc is a trap site of one
//! of the store's artifacts, records the trap in the activation and resumes at the entry
//! trampoline's landing pad, which returns 0. Builtins and host functions never fault: they
//! record their failure here ([`record_host_failure`]) and return a status, and compiled code
//! then raises `HostTrap`, which the call path replaces with the recorded reason.
//!
//! The handler runs on a per-thread alternate stack and is async-signal-safe: it reads plain
//! data through raw pointers, does not allocate and takes no lock.

mod unix;

use std::any::Any;
use std::cell::{Cell, RefCell};

use wasmc_abi::TrapCode;

use crate::error::Error;
use crate::store::CodeInfo;
use crate::vmctx::VMStoreContext;

pub(crate) use unix::{init_interrupt_signal, init_process, init_thread};

/// What the signal handler found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignalTrap {
    pub(crate) code: TrapCode,
    pub(crate) pc: usize,
    #[expect(dead_code, reason = "kept for diagnostics in a debugger")]
    pub(crate) fault_addr: usize,
}

/// Most Wasm frames a backtrace records (innermost first); deeper stacks are cut.
pub(crate) const MAX_FRAMES: usize = 64;

/// The program counters of the Wasm frames on the stack when a trap fired, innermost first:
/// the trapping pc, then one return address (minus one, so it lies inside the call) per
/// caller. Filled by the signal handler with no allocation: a fixed array.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawBacktrace {
    pub(crate) pcs: [usize; MAX_FRAMES],
    pub(crate) len: usize,
}

impl RawBacktrace {
    pub(crate) const EMPTY: RawBacktrace = RawBacktrace {
        pcs: [0; MAX_FRAMES],
        len: 0,
    };

    /// Appends a pc; returns false when full.
    fn push(&mut self, pc: usize) -> bool {
        if self.len == MAX_FRAMES {
            return false;
        }
        self.pcs[self.len] = pc;
        self.len += 1;
        true
    }

    /// The recorded pcs.
    pub(crate) fn pcs(&self) -> &[usize] {
        &self.pcs[..self.len]
    }
}

/// Walks the frame-pointer chain of the Wasm frames from a trap at `pc` with frame pointer
/// `fp` and stack pointer `sp`, up to the entry trampoline's frame `entry_fp`.
///
/// Compiled code keeps frame pointers (`preserve_frame_pointers`), and on both x86_64 and
/// aarch64 a frame record is `[fp] = caller's fp`, `[fp + 8] = return address`. Every read
/// is kept inside the live stack between the interrupted `sp` and `entry_fp`: a frame
/// pointer must be 8-byte aligned, above the previous one and at most `entry_fp`, otherwise
/// the walk stops. Frames whose pc is not in the store's code end the walk too.
///
/// # Safety
///
/// `[sp, entry_fp + 16)` must be readable stack memory of this thread (the interrupted
/// thread's stack between the trap and its entry trampoline).
pub(crate) unsafe fn walk_frames(
    pc: usize,
    fp: usize,
    sp: usize,
    entry_fp: usize,
    in_code: impl Fn(usize) -> bool,
) -> RawBacktrace {
    let mut bt = RawBacktrace::EMPTY;
    bt.push(pc);
    let mut fp = fp;
    let mut floor = sp;
    while fp.is_multiple_of(8) && fp >= floor && fp < entry_fp {
        // SAFETY: `fp` lies in `[sp, entry_fp)`, readable per the contract, and so does
        // `fp + 8` (below `entry_fp + 16`).
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if ret == 0 || !in_code(ret - 1) || !bt.push(ret - 1) {
            break;
        }
        floor = fp + 16;
        fp = next;
    }
    bt
}

/// Why a builtin or host function reported failure.
pub(crate) enum HostFailure {
    /// A builtin trapped (e.g. a bulk memory operation out of bounds).
    Trap(TrapCode),
    /// A host function returned an error; it is handed back unchanged.
    Error(Error),
    /// A host function panicked; the panic resumes once the Wasm frames are gone.
    Panic(Box<dyn Any + Send>),
}

/// One call from the host into Wasm, alive on the caller's stack for the call's duration.
pub(crate) struct Activation {
    prev: *const Activation,
    /// The store context whose `LAST_ENTRY_*` words say where to resume.
    pub(crate) ctx: *mut VMStoreContext,
    /// The store's code list (`StoreOpaque::code`).
    pub(crate) code: *const Vec<CodeInfo>,
    pub(crate) signal_trap: Cell<Option<SignalTrap>>,
    /// The Wasm frames at the trap, written by the signal handler. An `Option` so that
    /// starting an activation writes one tag, not 520 bytes of empty frames (a third of a
    /// typed call's cost when it was the array itself).
    pub(crate) backtrace: Cell<Option<RawBacktrace>>,
    pub(crate) host_failure: RefCell<Option<HostFailure>>,
}

thread_local! {
    /// The innermost activation of this thread; read by the signal handler. Const-initialised
    /// and without a destructor, so reading it never allocates or registers anything.
    static CURRENT: Cell<*const Activation> = const { Cell::new(std::ptr::null()) };
}

impl Activation {
    pub(crate) fn new(ctx: *mut VMStoreContext, code: *const Vec<CodeInfo>) -> Activation {
        Activation {
            prev: std::ptr::null(),
            ctx,
            code,
            signal_trap: Cell::new(None),
            backtrace: Cell::new(None),
            host_failure: RefCell::new(None),
        }
    }

    /// Runs `f` with `self` as the thread's current activation.
    pub(crate) fn run<R>(&mut self, f: impl FnOnce() -> R) -> R {
        struct Reset(*const Activation);
        impl Drop for Reset {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
            }
        }
        self.prev = CURRENT.with(|c| c.get());
        let _reset = Reset(self.prev);
        CURRENT.with(|c| c.set(self as *const Activation));
        f()
    }
}

/// Records why a builtin or host function failed, in the current activation. Without one
/// (no Wasm on this thread's stack) the failure has nowhere to go and is dropped.
pub(crate) fn record_host_failure(failure: HostFailure) {
    let act = CURRENT.with(|c| c.get());
    if act.is_null() {
        return;
    }
    // SAFETY: a non-null CURRENT points to an activation alive on this thread's stack (the
    // `run` frame that set it has not returned: we are called from inside it).
    let act = unsafe { &*act };
    if let Ok(mut slot) = act.host_failure.try_borrow_mut() {
        // Keep the first failure: it is the one that made compiled code raise HostTrap.
        if slot.is_none() {
            *slot = Some(failure);
        }
    }
}

/// The current thread's activation pointer, for the signal handler.
fn current() -> *const Activation {
    CURRENT.with(|c| c.get())
}
