//! [`Func`], [`TypedFunc`], [`Caller`], host functions, and the call path into Wasm.
//!
//! Entering Wasm (`invoke`): make sure the signal handlers and this thread's alternate
//! stack exist; on the outermost entry into the store set the stack limit to
//! `sp - max_wasm_stack`; save the store context's `LAST_ENTRY_*` words (a nested entry
//! overwrites them); publish an [`Activation`]; call the funcref's `array_call` with a buffer
//! of 16-byte `ValRaw` slots; restore. A return of 0 means the callee trapped: the signal
//! handler recorded the trap site, and if it is `HostTrap`, a builtin or host function
//! recorded the real reason. A host function's error is returned unchanged; a host
//! function's panic is resumed (with `std::panic::resume_unwind`) once the Wasm frames are
//! gone, so a panic in a host function propagates to the caller of `Func::call` as if there
//! were no Wasm in between.
//!
//! Host functions are called from Wasm through `host_shim::<T>`, an `extern "C"` array-call
//! function that finds the `Store<T>` through `caller vmctx -> store context`, converts the
//! raw slots to [`Val`]s, runs the closure under `catch_unwind` and records any failure.

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmc_abi::vmoffsets;
use wasmc_abi::{FuncType, TrapCode, ValType};

use crate::error::{Error, Trap, TrapFrame};
use crate::instance::{Extern, Instance};
use crate::preempt;
use crate::store::{FuncData, FuncKind, Store, StoreOpaque};
use crate::traphandlers::{self, Activation, HostFailure, RawBacktrace, record_host_failure};
use crate::type_registry;
use crate::val::{Val, raw_u32, raw_u64};
use crate::vmctx::{OwnedHostFunc, VMFuncRef, VMHostFunc, VMStoreContext, vmctx_word};

/// A function (Wasm or host) in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

/// The closure type of host functions.
pub type HostFn<T> =
    dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static;

/// The body of a typed host function ([`crate::Linker::func_wrap`]): it reads its arguments
/// from the call's raw slots and writes its results back to them, with no [`Val`] vectors
/// in between.
pub type RawHostFn<T> =
    dyn for<'s> Fn(Caller<'_, T>, RawSlots<'s>) -> Result<(), Error> + Send + Sync + 'static;

/// The raw value slots of one host call: the arguments on entry, the results on return, each
/// a 16-byte `ValRaw` in the encoding of [`WasmTy::to_raw`]. Slots may be unaligned (they can
/// live in a Wasm frame), so they are only read and written through these methods. Only the
/// loader creates them, with as many slots as the function's type needs.
/// The lifetime `'s` is the call's: slots cannot be kept past it.
#[derive(Clone, Copy, Debug)]
pub struct RawSlots<'s> {
    ptr: *mut u128,
    len: usize,
    _call: PhantomData<&'s mut [u128]>,
}

impl RawSlots<'_> {
    /// Whether there are at least `n` slots (always, for slots the loader made for the
    /// function's type; a typed body checks it once so its accesses need no checks).
    #[inline]
    pub(crate) fn holds(&self, n: usize) -> bool {
        self.len >= n
    }

    /// Slot `i`; 0 past the end (never the case for slots the loader made for the type).
    #[inline]
    pub fn get(&self, i: usize) -> u128 {
        if i < self.len {
            // SAFETY: `i < len` slots of the call, valid for the call (see `host_shim`).
            unsafe { self.ptr.add(i).read_unaligned() }
        } else {
            0
        }
    }

    /// Writes slot `i`; ignored past the end.
    #[inline]
    pub fn set(&self, i: usize, raw: u128) {
        if i < self.len {
            // SAFETY: as in `get`.
            unsafe { self.ptr.add(i).write_unaligned(raw) }
        }
    }
}

/// A host function's body: untyped ([`Func::new`], [`crate::Linker::func_new`]), taking
/// and filling [`Val`] slices, or typed ([`crate::Linker::func_wrap`]), working on the raw
/// slots directly (about 20 times cheaper per call from Wasm, measured in
/// docs/PERFORMANCE.md).
pub(crate) enum HostBody<T> {
    Untyped(Arc<HostFn<T>>),
    Typed(TypedHostFn<T>),
}

impl<T> Clone for HostBody<T> {
    fn clone(&self) -> Self {
        match self {
            HostBody::Untyped(f) => HostBody::Untyped(f.clone()),
            HostBody::Typed(f) => HostBody::Typed(f.clone()),
        }
    }
}

/// A typed host function's body ([`crate::IntoFunc`]) and the array-call shim compiled for
/// its exact closure type: Wasm calls the shim, which calls the closure directly (no `dyn`
/// call, no match on the body's kind, the closure inlined into it); the host calls `func`
/// through the `dyn`. Opaque: only [`crate::Linker::func_wrap`] uses it.
pub struct TypedHostFn<T> {
    pub(crate) func: Arc<RawHostFn<T>>,
    /// [`typed_host_shim`] of the closure type behind `func`; it finds the closure through
    /// [`VMHostFunc::body`].
    pub(crate) shim: ArrayCall,
}

impl<T> Clone for TypedHostFn<T> {
    fn clone(&self) -> Self {
        TypedHostFn {
            func: self.func.clone(),
            shim: self.shim,
        }
    }
}

impl<T: 'static> TypedHostFn<T> {
    /// The body of closure `f`, which must check [`RawSlots::holds`] before it touches
    /// the slots.
    pub(crate) fn new<C>(f: C) -> TypedHostFn<T>
    where
        C: for<'s> Fn(Caller<'_, T>, RawSlots<'s>) -> Result<(), Error> + Send + Sync + 'static,
    {
        TypedHostFn {
            func: Arc::new(f),
            shim: typed_host_shim::<T, C>,
        }
    }
}

/// A host function's closure and type, owned by the store.
pub(crate) struct HostFuncState<T> {
    pub(crate) ty: FuncType,
    pub(crate) func: HostBody<T>,
    /// `module::name` it was defined under in a linker, for tracing.
    pub(crate) name: Option<Arc<str>>,
}

/// What a host function sees of its caller: the store (host data, other exports) and the
/// calling instance. Dereferences to the [`Store`].
pub struct Caller<'a, T> {
    store: &'a mut Store<T>,
    instance: Option<Instance>,
}

impl<'a, T> Caller<'a, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// The calling instance (`None` when the host function was called directly from Rust).
    pub fn instance(&self) -> Option<Instance> {
        self.instance
    }

    /// An export of the calling instance (typically its memory).
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        self.instance?.get_export(self.store, name)
    }

    /// The store.
    pub fn store(&mut self) -> &mut Store<T> {
        self.store
    }
}

impl<T> std::ops::Deref for Caller<'_, T> {
    type Target = Store<T>;
    fn deref(&self) -> &Store<T> {
        self.store
    }
}

impl<T> std::ops::DerefMut for Caller<'_, T> {
    fn deref_mut(&mut self) -> &mut Store<T> {
        self.store
    }
}

impl Func {
    /// Creates a host function of type `ty` in `store`.
    pub fn new<T: 'static>(
        store: &mut Store<T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Func {
        Func::new_arc(store, ty, HostBody::Untyped(Arc::new(func)), None)
    }

    pub(crate) fn new_arc<T: 'static>(
        store: &mut Store<T>,
        ty: FuncType,
        func: HostBody<T>,
        name: Option<Arc<str>>,
    ) -> Func {
        let type_id = type_registry::intern(&ty);
        let state = Arc::new(HostFuncState {
            ty: ty.clone(),
            func,
            name,
        });
        // A typed body's shim reaches its closure (the data behind the `Arc<dyn Fn>`, of the
        // type the shim was instantiated for) through `body`.
        let (array_call, body) = match &state.func {
            HostBody::Untyped(_) => (host_shim::<T> as ArrayCall, std::ptr::null()),
            HostBody::Typed(t) => (t.shim, Arc::as_ptr(&t.func).cast::<()>()),
        };
        let host = OwnedHostFunc::new(
            type_id,
            array_call as *const u8,
            Arc::as_ptr(&state).cast(),
            body,
            store.opaque.id,
        );
        let func_ref = host.func_ref();
        let host_index = store.opaque.host_funcs.len();
        store.opaque.host_funcs.push(host);
        store.host_states.push(state);
        let index = store.opaque.push_func(FuncData {
            func_ref,
            ty,
            kind: FuncKind::Host(host_index),
        });
        Func {
            store_id: store.opaque.id,
            index,
        }
    }

    /// The function's type.
    ///
    /// # Panics
    ///
    /// If the function belongs to another store.
    pub fn ty<T>(&self, store: &Store<T>) -> FuncType {
        store.opaque.assert_owns(self.store_id, "function");
        store.opaque.funcs[self.index].ty.clone()
    }

    /// Calls the function with `params`, writing its results to `results`.
    ///
    /// # Errors
    ///
    /// A usage error if the parameters do not match the type or `results` has the wrong
    /// length, a [`Trap`] if Wasm trapped, or a host function's error unchanged. A host
    /// function's panic is resumed here.
    pub fn call<T: 'static>(
        &self,
        store: &mut Store<T>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), Error> {
        store.opaque.check(self.store_id, "function")?;
        let ty = store.opaque.funcs[self.index].ty.clone();
        check_vals("argument", params, &ty.params)?;
        if results.len() != ty.results.len() {
            return Err(Error::usage(format!(
                "function {ty} returns {} values but {} result slots were given",
                ty.results.len(),
                results.len()
            )));
        }
        if let FuncKind::Host(h) = store.opaque.funcs[self.index].kind {
            let caller = |store| Caller {
                store,
                instance: None,
            };
            match store.host_states[h].func.clone() {
                HostBody::Untyped(func) => {
                    for (r, t) in results.iter_mut().zip(&ty.results) {
                        *r = Val::default_for(*t);
                    }
                    func(caller(store), params, results)?;
                }
                HostBody::Typed(TypedHostFn { func, .. }) => {
                    let mut buf = vec![0u128; ty.array_len().max(1)];
                    for (slot, p) in buf.iter_mut().zip(params) {
                        *slot = p.to_raw(&store.opaque)?;
                    }
                    let slots = RawSlots {
                        ptr: buf.as_mut_ptr(),
                        len: buf.len(),
                        _call: PhantomData,
                    };
                    func(caller(store), slots)?;
                    for ((r, t), raw) in results.iter_mut().zip(&ty.results).zip(&buf) {
                        *r = Val::from_raw(*raw, *t, &store.opaque);
                    }
                }
            }
            return check_vals("result", results, &ty.results);
        }
        let initializes = if store.opaque.pending_reactors > 0 {
            store.opaque.check_initialized(self.index)?
        } else {
            None
        };
        let mut buf = vec![0u128; ty.array_len().max(1)];
        for (slot, p) in buf.iter_mut().zip(params) {
            *slot = p.to_raw(&store.opaque)?;
        }
        let func_ref = store.opaque.funcs[self.index].func_ref.read();
        let span = crate::trace::CallSpan::export(store, self.index);
        span.run(|| invoke(store, self.index, func_ref, &mut buf))?;
        if let Some(inst) = initializes {
            store.opaque.mark_initialized(inst);
        }
        for ((r, t), raw) in results.iter_mut().zip(&ty.results).zip(&buf) {
            *r = Val::from_raw(*raw, *t, &store.opaque);
        }
        Ok(())
    }

    /// A typed view of the function.
    ///
    /// # Errors
    ///
    /// A usage error naming both types if `P`/`R` do not match the function's type.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        store: &Store<impl Sized>,
    ) -> Result<TypedFunc<P, R>, Error> {
        store.opaque.check(self.store_id, "function")?;
        let ty = &store.opaque.funcs[self.index].ty;
        let want = FuncType::new(P::types(), R::types());
        if *ty != want {
            return Err(Error::usage(format!(
                "type mismatch: the function has type {ty}, not {want}"
            )));
        }
        Ok(TypedFunc {
            func: *self,
            _marker: PhantomData,
        })
    }
}

fn check_vals(what: &str, vals: &[Val], types: &[ValType]) -> Result<(), Error> {
    if vals.len() != types.len() {
        return Err(Error::usage(format!(
            "expected {} {what}s, got {}",
            types.len(),
            vals.len()
        )));
    }
    for (i, (v, t)) in vals.iter().zip(types).enumerate() {
        if v.ty() != *t {
            return Err(Error::usage(format!(
                "{what} {i} has type {}, expected {t}",
                v.ty()
            )));
        }
    }
    Ok(())
}

/// The array-call signature.
pub(crate) type ArrayCall = unsafe extern "C" fn(*mut u8, *mut u8, *mut u128, usize) -> u32;

/// Calls `func_ref.array_call` with `buf` under a fresh activation; maps a failure to the
/// recorded trap or host error.
pub(crate) fn invoke<T>(
    store: &mut Store<T>,
    func: usize,
    func_ref: VMFuncRef,
    buf: &mut [u128],
) -> Result<(), Error> {
    traphandlers::init_process();
    traphandlers::init_thread()
        .map_err(|e| Error::instantiate(format!("cannot set up the signal stack: {e}")))?;
    if func_ref.array_call.is_null() {
        return Err(Error::usage("the function has no host entry point"));
    }
    // Calls into Wasm publish the running thread, for interruption by signal, before the
    // interrupt word is read (`preempt.rs`); calls of host functions leave it as it is.
    let ctx = store.opaque.ctx_ptr();
    let callee = store.opaque.funcs.get(func).map(|f| &f.kind);
    let prev_tid = if let Some(FuncKind::Wasm(instance)) = callee {
        // SAFETY: the store's live context, on the thread running the store.
        let prev = unsafe { preempt::set_running(ctx, preempt::current_tid()) };
        preempt::publish();
        if interrupt_pending(store, *instance) {
            // SAFETY: as above.
            unsafe { preempt::restore_running(ctx, prev) };
            // What the callee's first check would do; functions without a frame have none.
            if store.opaque.entry_depth == 0 {
                store.opaque.interrupt.0.consume();
            }
            return Err(Error::trap(TrapCode::Interrupt));
        }
        Some(prev)
    } else {
        None
    };

    // From here on the store is reached only through this pointer (host functions and
    // builtins called from Wasm derive theirs from the same one, via the store context).
    let store_ptr: *mut Store<T> = store;
    // SAFETY: `store_ptr` comes from a live `&mut Store<T>`.
    let opaque: *mut StoreOpaque = unsafe { &raw mut (*store_ptr).opaque };
    // SAFETY: the store context is owned by the store and alive; no reference to it is held.
    // Field by field: `interrupt` and `stack_limit` may be written by another thread (the
    // limit is not saved: `enter_wasm` installs it and it stays; see there).
    let saved = unsafe {
        SavedCtx {
            last_entry_fp: (*ctx).last_entry_fp,
            last_entry_sp: (*ctx).last_entry_sp,
            last_entry_handler: (*ctx).last_entry_handler,
            store: (*ctx).store,
            opaque: (*ctx).opaque,
        }
    };
    // SAFETY: as above.
    unsafe {
        (*ctx).store = store_ptr.cast();
        (*ctx).opaque = opaque.cast();
        if (*opaque).entry_depth == 0 {
            let here = std::hint::black_box(0u8);
            let sp = &raw const here as usize;
            crate::interrupt::enter_wasm(ctx, sp.saturating_sub((*opaque).max_wasm_stack));
        }
        (*opaque).entry_depth += 1;
    }
    // SAFETY: `code` is a field of the live store.
    let mut activation = Activation::new(ctx, unsafe { &raw const (*opaque).code });
    let len = buf.len();
    let values = buf.as_mut_ptr();
    // SAFETY: `array_call` is the entry trampoline (or host shim) the loader wrote into a
    // funcref of this store: an `extern "C"` array-call function. `vmctx` is the callee's
    // context, `values` has `len >= max(params, results)` slots.
    let ok = activation.run(|| unsafe {
        let f: ArrayCall = std::mem::transmute(func_ref.array_call);
        f(func_ref.vmctx, func_ref.vmctx, values, len)
    });
    // A failed stack-limit check under the interrupted limit is a stop.
    // SAFETY: as above.
    let interrupted = ok == 0 && unsafe { crate::interrupt::stack_limit_interrupted(ctx) };
    // SAFETY: as above; restore what a nested entry may have overwritten.
    unsafe {
        if let Some(prev) = prev_tid {
            preempt::restore_running(ctx, prev);
        }
        (*opaque).entry_depth -= 1;
        (*ctx).last_entry_fp = saved.last_entry_fp;
        (*ctx).last_entry_sp = saved.last_entry_sp;
        (*ctx).last_entry_handler = saved.last_entry_handler;
        (*ctx).store = saved.store;
        (*ctx).opaque = saved.opaque;
    }
    if ok != 0 {
        return Ok(());
    }
    let result = call_failure(store_ptr, &activation, interrupted);
    if let Err(e) = &result
        && e.is_interrupt()
    {
        // SAFETY: the call is over; the store is ours again.
        let opaque = unsafe { &*opaque };
        // Only the outermost call consumes the interrupt: a host function between two
        // Wasm frames may swallow the inner error, and the outer guest must still stop.
        if opaque.entry_depth == 0 {
            opaque.interrupt.0.consume();
        }
    }
    result
}

/// Whether the store's interrupt word is set and store instance `instance` is Wasm compiled
/// to be interruptible: then a call of its function must fail with `Interrupt` before
/// entering. Loops are stopped by their checks or by signal and the entry of every function
/// with a stack-limit check through the limit (`interrupt.rs`), but a function without a
/// frame has no check at its entry, so the host's entry into Wasm is checked here.
fn interrupt_pending<T>(store: &Store<T>, instance: usize) -> bool {
    let ctx = store.opaque.ctx_ptr();
    // SAFETY: the store's live context; `interrupt` is 8-byte aligned and every concurrent
    // access to it is atomic (`interrupt.rs`).
    let word = unsafe { AtomicU64::from_ptr(&raw mut (*ctx).interrupt) }.load(Ordering::SeqCst);
    word != 0
        && store
            .opaque
            .instances
            .get(instance)
            .is_some_and(|i| i.artifact.is_interruptible())
}

/// The store-context words `invoke` restores after a call.
struct SavedCtx {
    last_entry_fp: usize,
    last_entry_sp: usize,
    last_entry_handler: usize,
    store: *mut (),
    opaque: *mut (),
}

/// The error of a call whose entry trampoline returned 0; `interrupted`: the stack limit was
/// the interrupted one, so a `StackOverflow` trap is the stop of a function entry.
fn call_failure<T>(
    store_ptr: *mut Store<T>,
    activation: &Activation,
    interrupted: bool,
) -> Result<(), Error> {
    let signal = activation.signal_trap.get();
    let host = activation.host_failure.take();
    // SAFETY: the call is over; the store is ours again.
    let store = unsafe { &mut *store_ptr };
    let backtrace = activation.backtrace.get().unwrap_or(RawBacktrace::EMPTY);
    // The function of a pc in this store's code, if it is inside a Wasm function (not a
    // trampoline).
    let resolve = |pc: usize| -> Option<TrapFrame> {
        store.opaque.artifacts.iter().find_map(|a| {
            let inner = &a.inner;
            if pc < inner.text || pc >= inner.text + inner.text_len {
                return None;
            }
            let func_index = inner.func_at(pc - inner.text)?;
            Some(TrapFrame {
                func_index,
                func_name: inner.meta.func_name(func_index).map(str::to_string),
            })
        })
    };
    let locate = |code: TrapCode, pc: Option<usize>| -> Error {
        let mut trap = Trap::new(code);
        if let Some(frame) = pc.and_then(resolve) {
            trap.func_index = Some(frame.func_index);
            trap.func_name = frame.func_name;
        }
        trap.backtrace = backtrace
            .pcs()
            .iter()
            .filter_map(|&pc| resolve(pc))
            .collect();
        Error::from(trap)
    };
    match (signal, host) {
        (_, Some(HostFailure::Panic(p))) => std::panic::resume_unwind(p),
        (_, Some(HostFailure::Error(e))) => Err(e),
        (s, Some(HostFailure::Trap(code))) => Err(locate(code, s.map(|s| s.pc))),
        (Some(s), None) if interrupted && s.code == TrapCode::StackOverflow => {
            Err(locate(TrapCode::Interrupt, Some(s.pc)))
        }
        (Some(s), None) => Err(locate(s.code, Some(s.pc))),
        (None, None) => Err(Error::trap(TrapCode::HostTrap)),
    }
}

/// The store and instance of a host call from the vmctx of the calling instance.
///
/// # Safety
///
/// `caller_vmctx` is the live vmctx of an instance of a `Store<T>` that is running Wasm:
/// the call path set the store context's `store` to it before entering Wasm and does not
/// touch the store until the call returns. The store must outlive the call: a host function
/// that swaps the whole store out through `Caller`'s `&mut Store` breaks that (and frees the
/// memories and code under the running Wasm frames too); closing that hole means not handing
/// out `&mut Store` from `Caller` (known, see docs/EMBEDDING.md).
#[inline(always)]
unsafe fn calling_store<'a, T>(caller_vmctx: *mut u8) -> (&'a mut Store<T>, Option<Instance>) {
    // SAFETY: per the contract; the vmctx prefix holds the store context and the instance
    // index.
    unsafe {
        let ctx = vmctx_word(caller_vmctx, vmoffsets::vmctx::STORE_CTX) as *mut VMStoreContext;
        let index = vmctx_word(caller_vmctx, vmoffsets::vmctx::INSTANCE);
        let store = &mut *(*ctx).store.cast::<Store<T>>();
        let instance = Some(Instance {
            store_id: store.opaque.id,
            index,
        });
        (store, instance)
    }
}

/// The array-call function of the untyped host functions of a `Store<T>`
/// ([`HostBody::Untyped`]; typed ones have their own [`typed_host_shim`]).
///
/// # Safety
///
/// Called by compiled code (through a wasm-to-host trampoline) or by `invoke`, with
/// `callee` a `VMHostFunc` created by `Func::new_arc::<T>`, `caller_vmctx` the vmctx of the
/// calling instance of the same store (see [`calling_store`]), and `values` holding
/// `len >= max(params, results)` 16-byte slots.
unsafe extern "C" fn host_shim<T: 'static>(
    callee: *mut u8,
    caller_vmctx: *mut u8,
    values: *mut u128,
    len: usize,
) -> u32 {
    let host = callee.cast::<VMHostFunc>();
    // SAFETY: per the contract, `host` is a live VMHostFunc whose state is an
    // `Arc<HostFuncState<T>>` held in the store's `host_states`, which only ever grows, so the
    // state lives as long as the store (which outlives the call, see `calling_store`).
    let state: &HostFuncState<T> = unsafe { &*(*host).state.cast::<HostFuncState<T>>() };
    // SAFETY: per the contract.
    let (store, instance) = unsafe { calling_store::<T>(caller_vmctx) };
    let ty = &state.ty;
    if len < ty.array_len() {
        record_host_failure(HostFailure::Trap(TrapCode::HostTrap));
        return 0;
    }
    // A typed body never gets here: its `VMHostFunc` calls its own `typed_host_shim`
    // (`Func::new_arc`). Refused rather than trusted, should that ever change.
    let HostBody::Untyped(f) = &state.func else {
        record_host_failure(HostFailure::Trap(TrapCode::HostTrap));
        return 0;
    };
    // SAFETY: per the contract.
    let running = unsafe { HostCall::begin(caller_vmctx) };
    let outcome = host_outcome(catch_unwind(AssertUnwindSafe(|| {
        untyped_host_call(&**f, ty, state.name.as_deref(), store, instance, values)
    })));
    running.end(outcome)
}

/// The array-call function of a typed host function whose closure has type `C`
/// ([`TypedHostFn`]): the closure is called directly, so it is inlined here, and the call
/// costs no `dyn` dispatch. The closure checks `len` itself (it knows its arity).
///
/// # Safety
///
/// As for [`host_shim`], with `callee` a `VMHostFunc` whose `body` points at a live `C`
/// (the closure of its [`TypedHostFn`], kept alive by the store's `host_states`).
unsafe extern "C" fn typed_host_shim<T: 'static, C>(
    callee: *mut u8,
    caller_vmctx: *mut u8,
    values: *mut u128,
    len: usize,
) -> u32
where
    C: for<'s> Fn(Caller<'_, T>, RawSlots<'s>) -> Result<(), Error> + Send + Sync + 'static,
{
    let host = callee.cast::<VMHostFunc>();
    // SAFETY: per the contract: `body` is the `C` inside the `Arc` of the function's
    // `TypedHostFn`, and `state` its `HostFuncState<T>`, both owned by the store.
    let (f, state) = unsafe {
        (
            &*(*host).body.cast::<C>(),
            &*(*host).state.cast::<HostFuncState<T>>(),
        )
    };
    // SAFETY: per the contract.
    let (store, instance) = unsafe { calling_store::<T>(caller_vmctx) };
    let slots = RawSlots {
        ptr: values,
        len,
        _call: PhantomData,
    };
    // SAFETY: per the contract.
    let running = unsafe { HostCall::begin(caller_vmctx) };
    let outcome = host_outcome(catch_unwind(AssertUnwindSafe(|| {
        crate::trace::CallSpan::host(state.name.as_deref())
            .run(|| f(Caller { store, instance }, slots))
    })));
    running.end(outcome)
}

/// A host function's call from Wasm, as interruption by signal sees it (`preempt.rs`): no
/// thread runs the store's Wasm while the host function runs, so it is never sent the
/// signal; when it returns to Wasm the thread is published again and the interrupt word
/// read, because a stop that came meanwhile found no thread to signal, and the Wasm it
/// returns to may be a loop with no check.
struct HostCall {
    ctx: *mut VMStoreContext,
    /// The thread running the store's Wasm before the call; 0 when the host called the
    /// host function directly (`Func::call`), with no Wasm to return to.
    prev: u64,
}

impl HostCall {
    /// # Safety
    ///
    /// `caller_vmctx` is as for [`calling_store`], on the thread running the store.
    #[inline(always)]
    unsafe fn begin(caller_vmctx: *mut u8) -> HostCall {
        // SAFETY: per the contract; the vmctx prefix holds the store context.
        let ctx =
            unsafe { vmctx_word(caller_vmctx, vmoffsets::vmctx::STORE_CTX) } as *mut VMStoreContext;
        // SAFETY: the live store context, on its thread.
        let prev = unsafe { preempt::set_running(ctx, 0) };
        // No fence needed before the host function: what the signal handler must not see
        // mid-way is the store's code list being changed, and that only happens inside calls
        // the compiler cannot see into (instantiation), which it may not hoist above this
        // atomic store of a word they can reach. (A compiler fence here cost 0.4 ns per call:
        // it made the typed shim save two more registers.)
        HostCall { ctx, prev }
    }

    /// Back to Wasm with the host call's `outcome` (1: go on): 0 with an `Interrupt` trap
    /// recorded if the store must stop now.
    #[inline(always)]
    fn end(self, outcome: u32) -> u32 {
        if self.prev == 0 {
            return outcome;
        }
        // This thread's id rather than `prev`, which is the parent's in a child that the host
        // function `fork`ed.
        // SAFETY: the store context outlives the call (see `calling_store`).
        unsafe { preempt::restore_running(self.ctx, preempt::current_tid()) };
        preempt::publish();
        // SAFETY: as above; the word is aligned and only ever written atomically.
        let word = unsafe { AtomicU64::from_ptr(&raw mut (*self.ctx).interrupt) };
        if outcome != 0 && word.load(Ordering::Relaxed) != 0 {
            record_host_failure(HostFailure::Trap(TrapCode::Interrupt));
            return 0;
        }
        outcome
    }
}

/// The untyped half of [`host_shim`]: arguments as [`Val`]s, results checked and encoded.
fn untyped_host_call<T: 'static>(
    f: &HostFn<T>,
    ty: &FuncType,
    name: Option<&str>,
    store: &mut Store<T>,
    instance: Option<Instance>,
    values: *mut u128,
) -> Result<(), Error> {
    {
        let params: Vec<Val> = ty
            .params
            .iter()
            .enumerate()
            .map(|(i, t)| {
                // SAFETY: `i < len` slots; slots may be unaligned in the Wasm frame.
                let raw = unsafe { values.add(i).read_unaligned() };
                Val::from_raw(raw, *t, &store.opaque)
            })
            .collect();
        let mut results: Vec<Val> = ty.results.iter().map(|t| Val::default_for(*t)).collect();
        crate::trace::CallSpan::host(name).run(|| {
            f(
                Caller {
                    store: &mut *store,
                    instance,
                },
                &params,
                &mut results,
            )
        })?;
        check_vals("host function result", &results, &ty.results)?;
        for (i, r) in results.iter().enumerate() {
            let raw = r.to_raw(&store.opaque)?;
            // SAFETY: `i < len` slots.
            unsafe { values.add(i).write_unaligned(raw) };
        }
        Ok(())
    }
}

/// What a host call's outcome becomes for the wasm-to-host trampoline: 1 to go on, 0 (with
/// the failure recorded) to trap. Inline: the success path is one compare per host call.
#[inline]
fn host_outcome(outcome: std::thread::Result<Result<(), Error>>) -> u32 {
    match outcome {
        Ok(Ok(())) => 1,
        Ok(Err(e)) => {
            record_host_failure(HostFailure::Error(e));
            0
        }
        Err(panic) => {
            record_host_failure(HostFailure::Panic(panic));
            0
        }
    }
}

/// Keeps [`WasmTy`], [`WasmParams`] and [`WasmResults`] implemented by this crate only:
/// compiled code trusts what they write into value slots (a reference type, or a `COUNT`
/// smaller than `types()`, would let safe code forge a funcref or overrun a buffer).
mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is a Wasm value type (`i32`, `i64`, `f32`, `f64`, `u128` for `v128`;
/// sealed).
pub trait WasmTy: Copy + sealed::Sealed {
    /// The Wasm type.
    const TYPE: ValType;
    /// Encodes into a raw slot.
    fn to_raw(self) -> u128;
    /// Decodes from a raw slot.
    fn from_raw(raw: u128) -> Self;
}

impl sealed::Sealed for i32 {}
impl WasmTy for i32 {
    const TYPE: ValType = ValType::I32;
    fn to_raw(self) -> u128 {
        u128::from(self as u32)
    }
    fn from_raw(raw: u128) -> Self {
        raw_u32(raw) as i32
    }
}
impl sealed::Sealed for i64 {}
impl WasmTy for i64 {
    const TYPE: ValType = ValType::I64;
    fn to_raw(self) -> u128 {
        u128::from(self as u64)
    }
    fn from_raw(raw: u128) -> Self {
        raw_u64(raw) as i64
    }
}
impl sealed::Sealed for f32 {}
impl WasmTy for f32 {
    const TYPE: ValType = ValType::F32;
    fn to_raw(self) -> u128 {
        u128::from(self.to_bits())
    }
    fn from_raw(raw: u128) -> Self {
        f32::from_bits(raw_u32(raw))
    }
}
impl sealed::Sealed for f64 {}
impl WasmTy for f64 {
    const TYPE: ValType = ValType::F64;
    fn to_raw(self) -> u128 {
        u128::from(self.to_bits())
    }
    fn from_raw(raw: u128) -> Self {
        f64::from_bits(raw_u64(raw))
    }
}
impl sealed::Sealed for u128 {}
impl WasmTy for u128 {
    const TYPE: ValType = ValType::V128;
    fn to_raw(self) -> u128 {
        self
    }
    fn from_raw(raw: u128) -> Self {
        raw
    }
}

/// Parameters of a [`TypedFunc`]: a [`WasmTy`], a tuple of them, or `()`.
pub trait WasmParams: sealed::Sealed {
    /// How many values (at most [`MAX_TYPED_VALUES`]).
    const COUNT: usize;
    /// The Wasm types, in order.
    fn types() -> Vec<ValType>;
    /// Writes the values to the first slots.
    fn store(self, slots: &mut [u128]);
    /// The values as [`Val`]s (for host functions).
    fn to_vals(self) -> Vec<Val>;
}

/// Results of a [`TypedFunc`]: a [`WasmTy`], a tuple of them, or `()`.
pub trait WasmResults: Sized + sealed::Sealed {
    /// How many values (at most [`MAX_TYPED_VALUES`]).
    const COUNT: usize;
    /// The Wasm types, in order.
    fn types() -> Vec<ValType>;
    /// Reads the values from the first slots.
    fn load(slots: &[u128]) -> Self;
    /// Writes the values to the first slots.
    fn store(self, slots: &mut [u128]);
    /// Writes the values to the first slots of a host call (a typed host function's
    /// results).
    fn store_raw(self, slots: RawSlots<'_>);
}

pub(crate) fn val_to_raw(v: Val) -> u128 {
    match v {
        Val::I32(x) => u128::from(x as u32),
        Val::I64(x) => u128::from(x as u64),
        Val::F32(x) => u128::from(x),
        Val::F64(x) => u128::from(x),
        Val::V128(x) => x,
        // Typed params/results never include references.
        Val::FuncRef(_) | Val::ExternRef(_) => 0,
    }
}

pub(crate) fn raw_to_val(raw: u128, t: ValType) -> Val {
    match t {
        ValType::I32 => Val::I32(raw_u32(raw) as i32),
        ValType::I64 => Val::I64(raw_u64(raw) as i64),
        ValType::F32 => Val::F32(raw_u32(raw)),
        ValType::F64 => Val::F64(raw_u64(raw)),
        ValType::V128 => Val::V128(raw),
        ValType::FuncRef => Val::FuncRef(None),
        ValType::ExternRef => Val::ExternRef(None),
    }
}

/// The most parameters or results a [`TypedFunc`] or a typed host function has (the largest
/// tuple with [`WasmParams`] and [`WasmResults`] impls).
pub const MAX_TYPED_VALUES: usize = 8;

impl<A: WasmTy> WasmParams for A {
    const COUNT: usize = 1;
    fn types() -> Vec<ValType> {
        vec![A::TYPE]
    }
    fn store(self, slots: &mut [u128]) {
        slots[0] = self.to_raw();
    }
    fn to_vals(self) -> Vec<Val> {
        vec![raw_to_val(self.to_raw(), A::TYPE)]
    }
}

impl<A: WasmTy> WasmResults for A {
    const COUNT: usize = 1;
    fn types() -> Vec<ValType> {
        vec![A::TYPE]
    }
    fn load(slots: &[u128]) -> Self {
        A::from_raw(slots[0])
    }
    fn store(self, slots: &mut [u128]) {
        slots[0] = self.to_raw();
    }
    fn store_raw(self, slots: RawSlots<'_>) {
        slots.set(0, self.to_raw());
    }
}

macro_rules! tuples {
    ($( ($($t:ident $i:tt),*) )*) => {$(
        #[allow(unused_variables, clippy::unused_unit, reason = "the empty tuple")]
        impl<$($t: WasmTy),*> sealed::Sealed for ($($t,)*) {}
        #[allow(unused_variables, clippy::unused_unit, reason = "the empty tuple")]
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            const COUNT: usize = 0 $(+ (1 + 0 * $i))*;
            fn types() -> Vec<ValType> {
                vec![$($t::TYPE),*]
            }
            fn store(self, slots: &mut [u128]) {
                $( slots[$i] = self.$i.to_raw(); )*
            }
            fn to_vals(self) -> Vec<Val> {
                vec![$(raw_to_val(self.$i.to_raw(), $t::TYPE)),*]
            }
        }
        #[allow(unused_variables, clippy::unused_unit, reason = "the empty tuple")]
        impl<$($t: WasmTy),*> WasmResults for ($($t,)*) {
            const COUNT: usize = 0 $(+ (1 + 0 * $i))*;
            fn types() -> Vec<ValType> {
                vec![$($t::TYPE),*]
            }
            fn load(slots: &[u128]) -> Self {
                ($($t::from_raw(slots[$i]),)*)
            }
            fn store(self, slots: &mut [u128]) {
                $( slots[$i] = self.$i.to_raw(); )*
            }
            fn store_raw(self, slots: RawSlots<'_>) {
                $( slots.set($i, self.$i.to_raw()); )*
            }
        }
    )*};
}

tuples! {
    ()
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

/// A function whose type was checked once, called without [`Val`] conversions.
#[derive(Debug)]
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    /// The untyped function.
    pub fn func(&self) -> Func {
        self.func
    }

    /// Calls the function.
    ///
    /// # Errors
    ///
    /// As for [`Func::call`].
    pub fn call<T: 'static>(&self, store: &mut Store<T>, params: P) -> Result<R, Error> {
        store.opaque.check(self.func.store_id, "function")?;
        let data = &store.opaque.funcs[self.func.index];
        if let FuncKind::Host(_) = data.kind {
            let ty = data.ty.clone();
            let mut results: Vec<Val> = ty.results.iter().map(|t| Val::default_for(*t)).collect();
            self.func.call(store, &params.to_vals(), &mut results)?;
            let raws: Vec<u128> = results.into_iter().map(val_to_raw).collect();
            return Ok(R::load(&raws));
        }
        let func_ref = data.func_ref.read();
        let initializes = if store.opaque.pending_reactors > 0 {
            store.opaque.check_initialized(self.func.index)?
        } else {
            None
        };
        // On the stack: a typed call allocates nothing.
        let mut slots = [0u128; MAX_TYPED_VALUES];
        let buf = &mut slots[..P::COUNT.max(R::COUNT).max(1)];
        params.store(buf);
        let span = crate::trace::CallSpan::export(store, self.func.index);
        span.run(|| invoke(store, self.func.index, func_ref, buf))?;
        if let Some(inst) = initializes {
            store.opaque.mark_initialized(inst);
        }
        Ok(R::load(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuple_types() {
        assert_eq!(
            <(i32, f64) as WasmParams>::types(),
            vec![ValType::I32, ValType::F64]
        );
        assert_eq!(<() as WasmResults>::types(), Vec::<ValType>::new());
        assert_eq!(<i64 as WasmResults>::types(), vec![ValType::I64]);
        assert_eq!(<() as WasmParams>::COUNT, 0);
        assert_eq!(<f32 as WasmParams>::COUNT, 1);
        assert_eq!(<(i32, f64, i64) as WasmResults>::COUNT, 3);
        assert_eq!(
            <(i32, i32, i32, i32, i32, i32, i32, i32) as WasmParams>::COUNT,
            MAX_TYPED_VALUES
        );
        let mut s = [0u128; 2];
        WasmParams::store((-1i32, 2.0f32), &mut s);
        assert_eq!(s[0], 0xffff_ffff);
        assert_eq!(<(i32, f32)>::load(&s), (-1, 2.0));
    }

    #[test]
    fn host_functions_called_from_rust() {
        let mut store = Store::new(10i32);
        let f = Func::new(
            &mut store,
            FuncType::new([ValType::I32], [ValType::I32]),
            |mut caller, args, results| {
                *caller.data_mut() += 1;
                results[0] = Val::I32(args[0].i32().unwrap_or(0) * 2);
                Ok(())
            },
        );
        let mut r = [Val::I32(0)];
        f.call(&mut store, &[Val::I32(21)], &mut r).unwrap();
        assert_eq!(r[0], Val::I32(42));
        assert_eq!(*store.data(), 11);
        let t = f.typed::<i32, i32>(&store).unwrap();
        assert_eq!(t.call(&mut store, 4).unwrap(), 8);
        assert!(f.typed::<i64, i32>(&store).is_err());
        assert!(f.call(&mut store, &[Val::I64(1)], &mut r).is_err());
        let mut other = Store::new(0i32);
        assert!(f.call(&mut other, &[Val::I32(1)], &mut r).is_err());
    }
}
