//! `wasmc-loader`: loads wasmc artifacts, links them, instantiates them and calls into them.
//!
//! An artifact is a relocatable object written by `wasmc-compiler`. Loading checks its
//! header, metadata and code (nothing is ever patched: the code has no relocations) and maps
//! the code read+execute. A [`Store`] then owns instances, their memories, tables and globals,
//! and host data `T` (the context every host function receives through its [`Caller`]); a
//! [`Linker`] resolves imports by `(module, name)`, after renaming.
//!
//! ```
//! use std::time::Duration;
//! use wasmc_loader::{Artifact, Caller, Linker, Store, Val};
//!
//! let wasm = wat::parse_str(r#"
//!     (module
//!       (import "env" "offset" (func $offset (result i32)))
//!       (func (export "add") (param i32 i32) (result i32)
//!         local.get 0 local.get 1 i32.add call $offset i32.add))
//! "#).unwrap();
//! let bytes = wasmc_compiler::compile(&wasm).unwrap();
//! // SAFETY: the bytes come straight from the wasmc compiler.
//! let artifact = unsafe { Artifact::from_bytes(&bytes) }.unwrap();
//!
//! // The store's data is the context of every host function.
//! let mut store = Store::new(100);
//! let mut linker = Linker::new();
//! linker.func_wrap("host", "offset", |caller: Caller<'_, i32>| Ok(*caller.data())).unwrap();
//! linker.rename_module("env", "host"); // resolved at instantiation, no recompilation
//! let instance = linker.instantiate(&mut store, &artifact).unwrap();
//!
//! let add = instance.get_typed_func::<(i32, i32), i32>(&store, "add").unwrap();
//! store.set_deadline(Duration::from_secs(5)).unwrap(); // stops runaway guests
//! assert_eq!(add.call(&mut store, (1, 2)).unwrap(), 103);
//! let mut results = [Val::I32(0)];
//! let f = instance.get_func(&store, "add").unwrap();
//! f.call(&mut store, &[Val::I32(40), Val::I32(2)], &mut results).unwrap();
//! assert_eq!(results[0], Val::I32(142));
//! ```
//!
//! Traps come back as an [`Error`] whose [`Error::trap_code`] says why; the process and the
//! store go on. Deadlines ([`Store::set_deadline`]) and interrupts
//! ([`Store::interrupt_handle`]) stop Wasm with an error for which [`Error::is_interrupt`]
//! holds. Host errors come back unchanged ([`Error::downcast_ref`]); host panics resume once
//! the Wasm frames are gone. `docs/EMBEDDING.md` is the guide to all of this (context,
//! renaming, cancellation, lifecycles, trust); the mechanisms are in `docs/ARCHITECTURE.md`
//! (§3 traps, §4 memory, §7 instantiation, §8 this API).
//!
//! All of the workspace's `unsafe` code lives in this crate, in `mmap.rs`, `vmctx.rs`,
//! `func.rs` (the entry call and host shims), `libcalls.rs`, `limits.rs` (the fuel word of
//! the store context, the limiter's way from a builtin to the store), `traphandlers/`,
//! `interrupt.rs` (atomic writes to the store context), `from_static.rs` and the artifact
//! loader; every other module uses their safe wrappers.
#![allow(
    unsafe_code,
    reason = "the loader maps code, calls into it and handles its faults"
)]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]
// Integer casts that could truncate must say why they cannot, or use `try_from`: a silently
// truncated length or offset in the loader is a memory-safety bug.
#![warn(clippy::cast_possible_truncation)]

mod artifact;
mod error;
mod from_static;
mod func;
mod global;
mod import_map;
mod instance;
mod interrupt;
mod libcalls;
mod limits;
mod linker;
mod memory;
mod mmap;
mod preempt;
pub mod profiling;
mod store;
mod table;
mod trace;
mod traphandlers;
mod type_registry;
mod val;
mod vmctx;
pub mod wasi;

use std::sync::atomic::{AtomicU64, Ordering};

pub use artifact::{Artifact, ArtifactInfo};
pub use error::{Error, ErrorKind, LoadError, Trap, TrapFrame};
pub use func::{
    Caller, Func, HostFn, MAX_TYPED_VALUES, RawHostFn, RawSlots, TypedFunc, TypedHostFn,
    WasmParams, WasmResults, WasmTy,
};
pub use global::Global;
pub use import_map::{ImportMap, ImportMapError};
pub use instance::{Extern, INITIALIZE_EXPORT, Instance};
pub use interrupt::InterruptHandle;
pub use limits::{
    DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT, InstanceBudget,
    ResourceLimiter, StoreLimits, StoreLimitsBuilder,
};
pub use linker::{IntoFunc, Linker};
pub use memory::{MAX_PAGES, Memory};
pub use store::{DEFAULT_MAX_WASM_STACK, Store};
pub use table::{MAX_TABLE_ELEMENTS, Table};
pub use val::{ExternRef, Val};
pub use vmctx::{
    VMFuncRef, VMGlobalDefinition, VMGlobalImport, VMHostFunc, VMMemoryDefinition, VMMemoryImport,
    VMStoreContext, VMTableDefinition, VMTableImport,
};
pub use wasmc_abi::metadata::{GlobalType, MemoryType, TableType};
pub use wasmc_abi::{FuncType, TrapCode, ValType};

/// The process-wide epoch counter that code compiled with epoch interruption polls.
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// Advances the epoch: Wasm running in a store whose deadline
/// ([`Store::set_epoch_deadline`]) has now passed traps with `Interrupt` at its next check.
///
/// It visits every store that has an epoch deadline (compiled code checks one word per
/// store, which this sets), so it costs time in proportion to the number of such stores:
/// call it from a timer, not in a hot loop.
pub fn increment_epoch() {
    EPOCH.fetch_add(1, Ordering::SeqCst);
    interrupt::epoch_advanced();
}

pub(crate) fn current_epoch() -> u64 {
    EPOCH.load(Ordering::Acquire)
}

pub(crate) fn epoch_ptr() -> usize {
    &raw const EPOCH as usize
}
