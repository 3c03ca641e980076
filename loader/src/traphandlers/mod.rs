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

pub(crate) use unix::{init_process, init_thread};

/// What the signal handler found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignalTrap {
    pub(crate) code: TrapCode,
    pub(crate) pc: usize,
    #[expect(dead_code, reason = "kept for diagnostics in a debugger")]
    pub(crate) fault_addr: usize,
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
