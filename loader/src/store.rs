//! [`Store`]: owns everything instances create, and the host data `T`.
//!
//! Handles ([`crate::Instance`], [`crate::Func`], [`crate::Memory`], [`crate::Table`],
//! [`crate::Global`]) are small `Copy` values: the store's id and an index into one of the
//! store's lists. Nothing is freed before the store is dropped, so an index stays valid for
//! the store's whole life. Using a handle with another store is a programming error: fallible
//! operations return an [`crate::ErrorKind::Usage`] error, infallible accessors panic (each
//! says so in `# Panics`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmc_abi::FuncType;
use wasmc_abi::metadata::{GlobalType, MemoryType, TableType};

use crate::artifact::{Artifact, ArtifactInner};
use crate::error::Error;
use crate::func::{Func, HostFuncState};
use crate::instance::{InitState, InstanceData};
use crate::interrupt::{InterruptHandle, InterruptShared};
use crate::limits::{BudgetCharge, LimiterFn, LimiterHook};
use crate::mmap::MemoryMap;
use crate::vmctx::{
    OwnedHostFunc, OwnedVm, VMFuncRef, VMGlobalDefinition, VMMemoryDefinition, VMStoreContext,
    VMTableDefinition, VmPtr,
};

/// Default limit on the stack Wasm may use below the first entry into a store.
pub const DEFAULT_MAX_WASM_STACK: usize = 512 << 10;

/// Owns instances and everything they create, plus host data `T` that host functions can
/// reach through [`crate::Caller`].
pub struct Store<T> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
    /// Host function closures created in this store (kept alive for their `VMHostFunc`s).
    pub(crate) host_states: Vec<Arc<HostFuncState<T>>>,
    /// The resource limiter, if installed (`limits.rs`).
    pub(crate) limiter: Option<LimiterFn<T>>,
}

/// The part of a store that does not depend on `T` (reachable from builtins).
pub(crate) struct StoreOpaque {
    /// Declared first so it is dropped first: it stops other threads from writing to `ctx`
    /// before `ctx` is freed.
    pub(crate) interrupt: InterruptRegistration,
    pub(crate) id: u64,
    /// Read and written by compiled code; boxed so its address is stable.
    pub(crate) ctx: OwnedVm<VMStoreContext>,
    pub(crate) instances: Vec<InstanceData>,
    pub(crate) funcs: Vec<FuncData>,
    pub(crate) memories: Vec<MemoryData>,
    pub(crate) tables: Vec<TableData>,
    pub(crate) globals: Vec<GlobalData>,
    pub(crate) host_funcs: Vec<OwnedHostFunc>,
    /// Funcref address -> function, for turning raw funcrefs back into [`Func`]s.
    pub(crate) func_by_ref: HashMap<usize, usize>,
    /// Artifacts used by instances of this store (kept alive, searched by the signal handler).
    pub(crate) artifacts: Vec<Artifact>,
    /// The code ranges of those artifacts, read by the signal handler.
    pub(crate) code: Vec<CodeInfo>,
    pub(crate) max_wasm_stack: usize,
    /// How many calls into Wasm of this store are active on the stack.
    pub(crate) entry_depth: u32,
    /// How many instances are reactors waiting for `_initialize` (checked on every call only
    /// when nonzero).
    pub(crate) pending_reactors: usize,
    /// How builtins reach `Store::limiter` (set with it; `limits.rs`).
    pub(crate) limiter_hook: Option<LimiterHook>,
    /// The store's share of an instance budget shared with other stores.
    pub(crate) budget: Option<BudgetCharge>,
    /// Whether `Store::set_fuel` was called.
    pub(crate) fuel_enabled: bool,
}

/// The store's interrupt state; detaches it from the store context when dropped.
pub(crate) struct InterruptRegistration(pub(crate) Arc<InterruptShared>);

impl Drop for InterruptRegistration {
    fn drop(&mut self) {
        self.0.detach();
    }
}

/// One artifact's code, as the signal handler needs it: plain integers, including the
/// address of the artifact's trap table (kept alive by `StoreOpaque::artifacts`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeInfo {
    pub(crate) text_start: usize,
    pub(crate) text_end: usize,
    /// End of the code an interruption signal may stop anywhere: the Wasm function bodies
    /// (`[text_start, signal_end)`) if the artifact is stopped by signal, else `text_start`.
    pub(crate) signal_end: usize,
    pub(crate) traps: usize,
    pub(crate) traps_len: usize,
}

/// What the store knows about a function.
pub(crate) struct FuncData {
    /// Its funcref (stable: in a vmctx or a `VMHostFunc`).
    pub(crate) func_ref: VmPtr<VMFuncRef>,
    pub(crate) ty: FuncType,
    pub(crate) kind: FuncKind,
}

pub(crate) enum FuncKind {
    /// Defined by the instance with this store index.
    Wasm(usize),
    /// A host function: index into `host_funcs` (and `Store::host_states`).
    Host(usize),
}

pub(crate) struct MemoryData {
    pub(crate) ty: MemoryType,
    pub(crate) map: MemoryMap,
    pub(crate) def: VmPtr<VMMemoryDefinition>,
    /// The instance vmctx holding `def`, or 0 for host-created memories.
    pub(crate) vmctx: usize,
    pub(crate) _owned: Option<OwnedVm<VMMemoryDefinition>>,
    /// Maximum size in pages.
    pub(crate) max_pages: u64,
}

pub(crate) struct TableData {
    pub(crate) ty: TableType,
    pub(crate) elements: Vec<usize>,
    pub(crate) def: VmPtr<VMTableDefinition>,
    /// The instance vmctx holding `def`, or 0 for host-created tables.
    pub(crate) vmctx: usize,
    pub(crate) _owned: Option<OwnedVm<VMTableDefinition>>,
}

pub(crate) struct GlobalData {
    pub(crate) ty: GlobalType,
    pub(crate) def: VmPtr<VMGlobalDefinition>,
    pub(crate) _owned: Option<OwnedVm<VMGlobalDefinition>>,
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

impl<T> Store<T> {
    /// Creates a store holding `data`.
    pub fn new(data: T) -> Store<T> {
        let ctx = OwnedVm::new(VMStoreContext {
            stack_limit: 0,
            fuel_consumed: 0,
            interrupt: 0,
            last_entry_fp: 0,
            last_entry_sp: 0,
            last_entry_handler: 0,
            last_exit_fp: 0,
            last_exit_pc: 0,
            store: std::ptr::null_mut(),
            opaque: std::ptr::null_mut(),
            wasm_stack_limit: 0,
            running_tid: 0,
        });
        let interrupt = InterruptRegistration(InterruptShared::new(ctx.vm_ptr().as_ptr()));
        Store {
            opaque: StoreOpaque {
                interrupt,
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                ctx,
                instances: Vec::new(),
                funcs: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                host_funcs: Vec::new(),
                func_by_ref: HashMap::new(),
                artifacts: Vec::new(),
                code: Vec::new(),
                max_wasm_stack: DEFAULT_MAX_WASM_STACK,
                entry_depth: 0,
                pending_reactors: 0,
                limiter_hook: None,
                budget: None,
                fuel_enabled: false,
            },
            data,
            host_states: Vec::new(),
            limiter: None,
        }
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// Consumes the store, returning the host data.
    pub fn into_data(self) -> T {
        self.data
    }

    /// Sets how many bytes of native stack Wasm may use below the point where the host first
    /// calls into this store; deeper recursion traps with `StackOverflow` (unbounded recursion
    /// costs the host an error, not its thread). The default is [`DEFAULT_MAX_WASM_STACK`].
    /// The value must leave room on the thread's stack, below the host's own frames: the
    /// thread's guard page is not a recoverable trap. It takes effect at the next call from
    /// the host.
    pub fn set_max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.opaque.max_wasm_stack = bytes;
        self
    }

    /// Sets the epoch deadline: code compiled with epoch interruption traps with
    /// `Interrupt` once [`crate::increment_epoch`] has been called `delta` more times.
    /// (The low-level mechanism under [`Store::set_deadline`]; most hosts want that.)
    pub fn set_epoch_deadline(&mut self, delta: u64) -> &mut Self {
        let deadline = crate::current_epoch().saturating_add(delta);
        self.opaque.interrupt.0.set_epoch_deadline(deadline);
        self
    }

    /// Arms a wall-clock deadline `after` from now: Wasm still running in this store then
    /// (in this call or a later one, even in a loop without calls) traps with
    /// [`wasmc_abi::TrapCode::Interrupt`] within about a millisecond, and the caller gets an
    /// error with [`Error::is_interrupt`]. A deadline fires once; arming another replaces
    /// it; [`Store::clear_deadline`] disarms it. If it fires while no Wasm runs, the next
    /// call traps at its first check. The store stays usable after the trap.
    ///
    /// # Errors
    ///
    /// A usage error if an instance of this store runs code compiled without epoch checks
    /// (`CompileOptions::epoch_interruption(false)`), which no deadline can stop. Such an
    /// artifact instantiated *after* this call is not checked: its code simply runs to
    /// completion.
    pub fn set_deadline(&mut self, after: std::time::Duration) -> Result<&mut Self, Error> {
        if let Some(a) = self.opaque.artifacts.iter().find(|a| !a.is_interruptible()) {
            return Err(Error::usage(format!(
                "cannot set a deadline: module {} was compiled without epoch checks                  (epoch_interruption(false)), so nothing could stop it",
                a.metadata()
                    .name
                    .as_deref()
                    .map_or_else(|| "(unnamed)".to_string(), |n| format!("`{n}`"))
            )));
        }
        self.opaque.interrupt.0.set_deadline(after);
        Ok(self)
    }

    /// Disarms the deadline set by [`Store::set_deadline`], and withdraws an interrupt it
    /// (or an [`InterruptHandle`]) requested that has not stopped a call yet.
    pub fn clear_deadline(&mut self) -> &mut Self {
        self.opaque.interrupt.0.clear_deadline();
        self.opaque.interrupt.0.clear_pending();
        self
    }

    /// A handle that stops Wasm running in this store from any thread
    /// ([`InterruptHandle::interrupt`]).
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle {
            shared: self.opaque.interrupt.0.clone(),
        }
    }
}

impl<T: Default> Default for Store<T> {
    fn default() -> Self {
        Store::new(T::default())
    }
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.opaque.id)
            .field("instances", &self.opaque.instances.len())
            .finish_non_exhaustive()
    }
}

impl StoreOpaque {
    /// Checks that a handle belongs to this store.
    pub(crate) fn check(&self, store_id: u64, what: &str) -> Result<(), Error> {
        if store_id == self.id {
            Ok(())
        } else {
            Err(Error::usage(format!("{what} belongs to another store")))
        }
    }

    /// Like `check`, for infallible accessors.
    #[track_caller]
    pub(crate) fn assert_owns(&self, store_id: u64, what: &str) {
        assert!(
            store_id == self.id,
            "{what} used with a store it does not belong to"
        );
    }

    /// Registers an artifact's code for the signal handler (once per artifact).
    pub(crate) fn register_artifact(&mut self, artifact: &Artifact) {
        if self.artifacts.iter().any(|a| a.same(artifact)) {
            return;
        }
        let a: &ArtifactInner = &artifact.inner;
        // The Wasm function bodies come first in `.text` (trampolines and stubs follow), so
        // they end where the last function does.
        let signal_end = if a.header.flags & wasmc_abi::metadata::flags::SIGNAL_INTERRUPTION != 0 {
            self.interrupt.0.enable_signals();
            a.text + a.bodies_end()
        } else {
            a.text
        };
        self.code.push(CodeInfo {
            text_start: a.text,
            text_end: a.text + a.text_len,
            signal_end,
            traps: a.traps.as_ptr() as usize,
            traps_len: a.traps.len(),
        });
        self.artifacts.push(artifact.clone());
    }

    /// Checks, before the host calls store function `func`, that it does not belong to a
    /// reactor still waiting for `_initialize`. Returns the instance that this call
    /// initialises when `func` is that `_initialize`. Called only while
    /// `pending_reactors > 0`.
    pub(crate) fn check_initialized(&self, func: usize) -> Result<Option<usize>, Error> {
        let FuncKind::Wasm(inst) = self.funcs[func].kind else {
            return Ok(None);
        };
        match self.instances[inst].init {
            InitState::Ready => Ok(None),
            InitState::Pending(init) if init == func => Ok(Some(inst)),
            InitState::Pending(_) => Err(Error::usage(
                "the instance is a reactor whose `_initialize` has not run yet: call                  `Instance::initialize_reactor` (or instantiate with `Linker::instantiate`)                  before calling its exports",
            )),
        }
    }

    /// Marks instance `inst` initialised after its `_initialize` returned.
    pub(crate) fn mark_initialized(&mut self, inst: usize) {
        if let InitState::Pending(_) = self.instances[inst].init {
            self.instances[inst].init = InitState::Ready;
            self.pending_reactors -= 1;
        }
    }

    /// Adds a function; returns its index.
    pub(crate) fn push_func(&mut self, data: FuncData) -> usize {
        let i = self.funcs.len();
        self.func_by_ref.insert(data.func_ref.as_ptr() as usize, i);
        self.funcs.push(data);
        i
    }

    /// Raw funcref bits of a [`Func`] (0 for null).
    pub(crate) fn funcref_to_raw(&self, f: Option<Func>) -> Result<usize, Error> {
        let Some(f) = f else { return Ok(0) };
        self.check(f.store_id, "function")?;
        let data = &self.funcs[f.index];
        if let FuncKind::Host(_) = data.kind
            && data.func_ref.read().wasm_call.is_null()
        {
            return Err(Error::usage(
                "a host function can be used as a funcref only after a module imported it \
                 (it has no wasm-callable entry point yet)",
            ));
        }
        Ok(data.func_ref.as_ptr() as usize)
    }

    /// The [`Func`] of raw funcref bits. Every funcref compiled code can produce is
    /// registered at instantiation, so an unknown non-null pointer is a loader bug.
    pub(crate) fn funcref_from_raw(&self, raw: usize) -> Option<Func> {
        if raw == 0 {
            return None;
        }
        let index = *self.func_by_ref.get(&raw)?;
        Some(Func {
            store_id: self.id,
            index,
        })
    }

    /// The store context pointer compiled code uses.
    pub(crate) fn ctx_ptr(&self) -> *mut VMStoreContext {
        self.ctx.vm_ptr().as_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn stores_move_between_threads_and_artifacts_are_shared() {
        send::<Store<()>>();
        send_sync::<Artifact>();
        send_sync::<crate::Linker<()>>();
        send_sync::<crate::Error>();
    }

    #[test]
    fn handles_of_another_store_are_refused() {
        let mut a = Store::new(());
        let b = Store::new(());
        let g = crate::Global::new(
            &mut a,
            GlobalType {
                ty: wasmc_abi::ValType::I32,
                mutable: true,
            },
            crate::Val::I32(1),
        )
        .unwrap();
        let mut b = b;
        assert!(g.set(&mut b, crate::Val::I32(2)).is_err());
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.get(&b))).is_err());
    }
}
