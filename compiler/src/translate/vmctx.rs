//! Every address compiled code derives from a `vmctx`: the only file that reads
//! `abi::VMOffsets` and the `abi::vmoffsets` record offsets (the trampolines use it too).
//!
//! Memory flags: all these records are aligned and never trap (`trusted`), and they live in
//! Cranelift's `vmctx` alias region: linear memory stores (alias region `heap`, `memory.rs`)
//! and table element stores (`table`) can never overwrite them, so a record loaded before a
//! heap store is still valid after it and need not be reloaded. A field is also `readonly`
//! when it cannot change while code runs: the vmctx prefix (`store_ctx`, `builtins`,
//! `type_ids`), the canonical type ids, memory bases (a memory never moves), and import
//! records (written once at instantiation). Such a load whose address is always valid is
//! also `can_move`: Cranelift treats it as a pure value, so it is computed once and hoisted
//! out of loops. Loads through a funcref are readonly but not `can_move`, since the funcref
//! is only known to be non-null after a check that they must stay behind.

use cranelift_codegen::ir::{
    AliasRegion, AliasRegionData, Function, InstBuilder, MemFlagsData, Value, types,
};
use cranelift_frontend::FunctionBuilder;
use wasmc_abi::Builtin;
use wasmc_abi::vmoffsets::{
    func_ref, global_import, host_func, import_ref, memory_def, store_ctx, table_def, vmctx,
};

use crate::environ::ModuleInfo;

/// The alias regions of compiled code: runtime records, linear memory, table elements. Every
/// function declares them first, in this order, so a region's index is its `user_id`.
const REGIONS: [(u32, &str); 3] = [(0, "vmctx"), (1, "heap"), (2, "table")];

/// Declares [`REGIONS`] in a freshly created `func`; call it before emitting any access.
pub(crate) fn declare_alias_regions(func: &mut Function) {
    for (user_id, name) in REGIONS {
        let region = func.dfg.alias_regions.insert(AliasRegionData {
            user_id,
            description: name.into(),
        });
        debug_assert_eq!(
            region.as_u32(),
            user_id,
            "alias regions declared out of order"
        );
    }
}

/// Runtime records (vmctx, store context, import records, globals).
pub(crate) fn vmctx_region() -> AliasRegion {
    AliasRegion::from_u32(REGIONS[0].0)
}

/// Linear memory.
pub(crate) fn heap_region() -> AliasRegion {
    AliasRegion::from_u32(REGIONS[1].0)
}

/// Table element arrays.
fn table_region() -> AliasRegion {
    AliasRegion::from_u32(REGIONS[2].0)
}

/// Flags of a load from (or store to) a runtime record whose address is always valid; a
/// `readonly` load is also `can_move` (see the module documentation).
pub(crate) fn trusted(readonly: bool) -> MemFlagsData {
    let f = MemFlagsData::trusted().with_alias_region(Some(vmctx_region()));
    if readonly {
        f.with_readonly().with_can_move()
    } else {
        f
    }
}

/// Flags of a load of a `VMFuncRef` field through a funcref value: readonly, but its address
/// is valid only once the funcref was checked to be non-null, so it must not move.
fn funcref_field() -> MemFlagsData {
    MemFlagsData::trusted()
        .with_alias_region(Some(vmctx_region()))
        .with_readonly()
}

fn off(o: u32) -> i32 {
    // Every vmctx offset is far below 2 GiB: `VMOffsets` saturates at u32::MAX only for
    // absurd counts, which the validator's limits rule out.
    i32::try_from(o).unwrap_or(i32::MAX)
}

/// A record somewhere in memory: `ptr + offset`.
#[derive(Clone, Copy)]
pub(crate) struct Place {
    /// Base pointer.
    pub ptr: Value,
    /// Byte offset from it.
    pub offset: i32,
}

impl Place {
    fn at(self, field: u32) -> i32 {
        self.offset + off(field)
    }
}

/// `vmctx->store_ctx`.
pub(crate) fn load_store_ctx(b: &mut FunctionBuilder<'_>, vmctx_val: Value) -> Value {
    b.ins()
        .load(types::I64, trusted(true), vmctx_val, off(vmctx::STORE_CTX))
}

/// Stores `value` into the store context field at `field` (an `abi::vmoffsets::store_ctx`
/// offset).
pub(crate) fn store_store_ctx_field(
    b: &mut FunctionBuilder<'_>,
    store_ctx_val: Value,
    field: u32,
    value: Value,
) {
    b.ins()
        .store(trusted(false), value, store_ctx_val, off(field));
}

/// The offsets of the store-context fields the trampolines write.
pub(crate) mod store_fields {
    pub(crate) use wasmc_abi::vmoffsets::store_ctx::{
        LAST_ENTRY_FP, LAST_ENTRY_HANDLER, LAST_ENTRY_SP, LAST_EXIT_FP, LAST_EXIT_PC,
    };
}

/// Offset of `STACK_LIMIT` in the store context, for the stack-limit global value.
pub(crate) const STACK_LIMIT: i32 = store_ctx::STACK_LIMIT as i32;
/// Offset of `store_ctx` in the vmctx, for the stack-limit global value.
pub(crate) const STORE_CTX: i32 = vmctx::STORE_CTX as i32;

/// The store's interrupt word: `vmctx->store_ctx->interrupt`, nonzero when the code must stop
/// (`abi::vmoffsets::store_ctx::INTERRUPT`). Read with an atomic load: another thread sets it
/// at any time, and an atomic load is never merged with an earlier load of the same word, so
/// a loop with no stores or calls still sees the new value on every turn. On x86_64 it is a
/// plain `mov`; on aarch64 an `ldar`. The store context pointer itself is a movable readonly
/// load, so in a loop the check is this one load and a branch.
pub(crate) fn load_interrupt(b: &mut FunctionBuilder<'_>, vmctx_val: Value) -> Value {
    let store = load_store_ctx(b, vmctx_val);
    let addr = b.ins().iadd_imm_s(store, i64::from(store_ctx::INTERRUPT));
    b.ins().atomic_load(types::I64, trusted(false), addr)
}

/// The function pointer of a builtin: `vmctx->builtins[index]`.
pub(crate) fn load_builtin(
    b: &mut FunctionBuilder<'_>,
    vmctx_val: Value,
    builtin: Builtin,
) -> Value {
    let table = b
        .ins()
        .load(types::I64, trusted(true), vmctx_val, off(vmctx::BUILTINS));
    let index = off(builtin.index() * wasmc_abi::types::POINTER_SIZE);
    b.ins().load(types::I64, trusted(true), table, index)
}

/// The canonical type id of module type `type_index`: `vmctx->type_ids[type_index]` (u32).
pub(crate) fn load_type_id(
    b: &mut FunctionBuilder<'_>,
    vmctx_val: Value,
    type_index: u32,
) -> Value {
    let ids = b
        .ins()
        .load(types::I64, trusted(true), vmctx_val, off(vmctx::TYPE_IDS));
    b.ins().load(
        types::I32,
        trusted(true),
        ids,
        off(type_index.saturating_mul(4)),
    )
}

/// The `VMMemoryDefinition` of memory `index` (imports first).
pub(crate) fn memory_def(
    b: &mut FunctionBuilder<'_>,
    m: &ModuleInfo<'_>,
    vmctx_val: Value,
    index: u32,
) -> Place {
    if index < m.num_imported_memories {
        let at = m.offsets.imported_memory(index) + import_ref::FROM;
        let ptr = b.ins().load(types::I64, trusted(true), vmctx_val, off(at));
        Place { ptr, offset: 0 }
    } else {
        Place {
            ptr: vmctx_val,
            offset: off(m.offsets.defined_memory(index - m.num_imported_memories)),
        }
    }
}

/// The base of a memory. Readonly: a memory never moves, so the load can be hoisted.
pub(crate) fn load_memory_base(b: &mut FunctionBuilder<'_>, def: Place) -> Value {
    b.ins()
        .load(types::I64, trusted(true), def.ptr, def.at(memory_def::BASE))
}

/// The current length in bytes of a memory (changes with `memory.grow`).
pub(crate) fn load_memory_length(b: &mut FunctionBuilder<'_>, def: Place) -> Value {
    b.ins().load(
        types::I64,
        trusted(false),
        def.ptr,
        def.at(memory_def::CURRENT_LENGTH),
    )
}

/// The `VMTableDefinition` of table `index` (imports first).
pub(crate) fn table_def(
    b: &mut FunctionBuilder<'_>,
    m: &ModuleInfo<'_>,
    vmctx_val: Value,
    index: u32,
) -> Place {
    if index < m.num_imported_tables {
        let at = m.offsets.imported_table(index) + import_ref::FROM;
        let ptr = b.ins().load(types::I64, trusted(true), vmctx_val, off(at));
        Place { ptr, offset: 0 }
    } else {
        Place {
            ptr: vmctx_val,
            offset: off(m.offsets.defined_table(index - m.num_imported_tables)),
        }
    }
}

/// The element array of a table (moves when the table grows).
pub(crate) fn load_table_base(b: &mut FunctionBuilder<'_>, def: Place) -> Value {
    b.ins()
        .load(types::I64, trusted(false), def.ptr, def.at(table_def::BASE))
}

/// The element array of a table that cannot grow (maximum = minimum): it never moves once
/// the instance exists, so the load is readonly and may move.
pub(crate) fn load_fixed_table_base(b: &mut FunctionBuilder<'_>, def: Place) -> Value {
    b.ins()
        .load(types::I64, trusted(true), def.ptr, def.at(table_def::BASE))
}

/// The current number of elements of a table.
pub(crate) fn load_table_length(b: &mut FunctionBuilder<'_>, def: Place) -> Value {
    b.ins().load(
        types::I64,
        trusted(false),
        def.ptr,
        def.at(table_def::CURRENT_ELEMENTS),
    )
}

/// Flags of a load or store of a table element (the element array of a table): aligned,
/// never traps (the index was checked), in Cranelift's `table` alias region.
pub(crate) fn table_elem() -> MemFlagsData {
    MemFlagsData::trusted().with_alias_region(Some(table_region()))
}

/// log2 of the size of a table element.
pub(crate) const TABLE_ELEMENT_SHIFT: i64 = table_def::ELEMENT_SIZE.trailing_zeros() as i64;

/// Where the value of global `index` (imports first) lives.
pub(crate) fn global_place(
    b: &mut FunctionBuilder<'_>,
    m: &ModuleInfo<'_>,
    vmctx_val: Value,
    index: u32,
) -> Place {
    if index < m.num_imported_globals {
        let at = m.offsets.imported_global(index) + global_import::FROM;
        let ptr = b.ins().load(types::I64, trusted(true), vmctx_val, off(at));
        Place { ptr, offset: 0 }
    } else {
        Place {
            ptr: vmctx_val,
            offset: off(m.offsets.defined_global(index - m.num_imported_globals)),
        }
    }
}

/// The `VMFuncRef` address of a function: `imported_functions[f]` for an import, the
/// function's `func_refs` slot for a defined, escaped function. `None` for a defined
/// function that does not escape (validation guarantees `ref.func` only names escaped ones).
pub(crate) fn func_ref_addr(
    b: &mut FunctionBuilder<'_>,
    m: &ModuleInfo<'_>,
    vmctx_val: Value,
    func_index: u32,
) -> Option<Value> {
    let at = if m.is_imported_func(func_index) {
        m.offsets.imported_function(func_index)
    } else {
        m.offsets.func_ref(m.func_ref_slot(func_index)?)
    };
    Some(b.ins().iadd_imm_s(vmctx_val, i64::from(at)))
}

/// `(wasm_call, vmctx)` of imported function `index`; readonly (written at instantiation).
pub(crate) fn load_imported_func(
    b: &mut FunctionBuilder<'_>,
    m: &ModuleInfo<'_>,
    vmctx_val: Value,
    index: u32,
) -> (Value, Value) {
    let rec = m.offsets.imported_function(index);
    let code = b.ins().load(
        types::I64,
        trusted(true),
        vmctx_val,
        off(rec + func_ref::WASM_CALL),
    );
    let callee_vmctx = b.ins().load(
        types::I64,
        trusted(true),
        vmctx_val,
        off(rec + func_ref::VMCTX),
    );
    (code, callee_vmctx)
}

/// Fields of a `VMFuncRef` reached through a funcref value (non-null).
pub(crate) fn load_funcref_type_id(b: &mut FunctionBuilder<'_>, funcref: Value) -> Value {
    b.ins()
        .load(types::I32, funcref_field(), funcref, off(func_ref::TYPE_ID))
}

/// `(wasm_call, vmctx)` of a non-null funcref.
pub(crate) fn load_funcref_call(b: &mut FunctionBuilder<'_>, funcref: Value) -> (Value, Value) {
    let code = b.ins().load(
        types::I64,
        funcref_field(),
        funcref,
        off(func_ref::WASM_CALL),
    );
    let callee_vmctx = b
        .ins()
        .load(types::I64, funcref_field(), funcref, off(func_ref::VMCTX));
    (code, callee_vmctx)
}

/// The array-call entry of a `VMHostFunc` (the callee vmctx of a wasm-to-host trampoline).
pub(crate) fn load_host_array_call(b: &mut FunctionBuilder<'_>, host_func_val: Value) -> Value {
    b.ins().load(
        types::I64,
        trusted(true),
        host_func_val,
        off(host_func::ARRAY_CALL),
    )
}

/// `store_ctx->fuel_consumed` (fuel metering, `fuel.rs`). A plain load: only this thread's
/// Wasm and host code write it, and not while this function runs between two calls.
pub(crate) fn load_fuel_consumed(b: &mut FunctionBuilder<'_>, store_ctx_val: Value) -> Value {
    b.ins().load(
        types::I64,
        trusted(false),
        store_ctx_val,
        off(store_ctx::FUEL_CONSUMED),
    )
}

/// Writes `store_ctx->fuel_consumed`.
pub(crate) fn store_fuel_consumed(b: &mut FunctionBuilder<'_>, store_ctx_val: Value, v: Value) {
    store_store_ctx_field(b, store_ctx_val, store_ctx::FUEL_CONSUMED, v);
}
