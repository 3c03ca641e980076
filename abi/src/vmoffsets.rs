//! The layout of the `VMContext` and of every record compiled code reads.
//!
//! The compiler reads offsets from here (only in `compiler/src/translate/vmctx.rs` and the
//! trampolines); the loader's `#[repr(C)]` structs in `loader/src/vmctx.rs` are asserted,
//! field by field, to match. All targets are 64-bit, so a pointer is 8 bytes.
//!
//! ```text
//! VMContext (one per instance, 16-byte aligned)
//!   0   magic: u32 = VMCTX_MAGIC ("wmcx"), padding
//!   8   store_ctx: *mut VMStoreContext          readonly
//!   16  builtins: *const [fn; Builtin::ALL.len()] readonly
//!   24  epoch_ptr: *const AtomicU64             readonly
//!   32  type_ids: *const u32                    readonly, canonical id per module type index
//!   40  instance: *mut ()                       readonly, the loader's instance (opaque)
//!   48  imported_memories[]   VMMemoryImport     { from: *mut VMMemoryDefinition, vmctx }
//!   ..  memories[]            VMMemoryDefinition { base, current_length }   (defined)
//!   ..  imported_functions[]  VMFuncRef          { array_call, wasm_call, vmctx, type_id }
//!   ..  imported_tables[]     VMTableImport      { from: *mut VMTableDefinition, vmctx }
//!   ..  imported_globals[]    VMGlobalImport     { from: *mut VMGlobalDefinition }
//!   ..  tables[]              VMTableDefinition  { base, current_elements }  (defined)
//!       (align 16)
//!   ..  globals[]             VMGlobalDefinition [u8; 16]                    (defined)
//!   ..  func_refs[]           VMFuncRef          (defined functions that escape)
//! ```
//!
//! A funcref value is a `*const VMFuncRef` (0 is null). `ref.func` of an imported function is
//! the address of its `imported_functions[i]` slot, which has the same layout. Table elements
//! are pointer-sized: funcref pointers or externref handles. A global slot holds its value
//! little-endian at offset 0 (references as pointer-sized integers).

/// The first word of every `VMContext`: `"wmcx"` little-endian.
pub const VMCTX_MAGIC: u32 = u32::from_le_bytes(*b"wmcx");
/// The first word of every `VMHostFunc`: `"host"` little-endian.
pub const VMHOSTFUNC_MAGIC: u32 = u32::from_le_bytes(*b"host");

/// Offsets inside `VMFuncRef` (size 32): how a function is called from anywhere.
pub mod func_ref {
    /// `array_call`: the array-call entry point (entry trampoline or host shim).
    pub const ARRAY_CALL: u32 = 0;
    /// `wasm_call`: the `tail`-convention entry point.
    pub const WASM_CALL: u32 = 8;
    /// `vmctx`: the callee vmctx to pass (an instance's `VMContext` or a `VMHostFunc`).
    pub const VMCTX: u32 = 16;
    /// `type_id`: the canonical (process-wide) id of the function's type, a `u32`.
    pub const TYPE_ID: u32 = 24;
    /// Size of the record.
    pub const SIZE: u32 = 32;
}

/// Offsets inside `VMMemoryDefinition` (size 16).
pub mod memory_def {
    /// `base: *mut u8`; never moves for the life of the memory.
    pub const BASE: u32 = 0;
    /// `current_length: usize`, in bytes.
    pub const CURRENT_LENGTH: u32 = 8;
    /// Size of the record.
    pub const SIZE: u32 = 16;
}

/// Offsets inside `VMMemoryImport` and `VMTableImport` (size 16).
pub mod import_ref {
    /// `from`: pointer to the exporting instance's definition record.
    pub const FROM: u32 = 0;
    /// `vmctx`: the exporting instance's vmctx.
    pub const VMCTX: u32 = 8;
    /// Size of the record.
    pub const SIZE: u32 = 16;
}

/// Offsets inside `VMTableDefinition` (size 16).
pub mod table_def {
    /// `base: *mut usize`; moves when the table grows.
    pub const BASE: u32 = 0;
    /// `current_elements: usize`.
    pub const CURRENT_ELEMENTS: u32 = 8;
    /// Size of the record.
    pub const SIZE: u32 = 16;
    /// Size of one element (a pointer).
    pub const ELEMENT_SIZE: u32 = 8;
}

/// Offsets inside `VMGlobalImport` (size 8).
pub mod global_import {
    /// `from: *mut VMGlobalDefinition`.
    pub const FROM: u32 = 0;
    /// Size of the record.
    pub const SIZE: u32 = 8;
}

/// Size and alignment of a `VMGlobalDefinition`.
pub mod global_def {
    /// Size of the record (room for a v128).
    pub const SIZE: u32 = 16;
    /// Alignment of the record.
    pub const ALIGN: u32 = 16;
}

/// Offsets inside `VMHostFunc`, the callee vmctx of a host function. The loader may put more
/// fields after these; compiled code reads only these.
pub mod host_func {
    /// `magic: u32` = `VMHOSTFUNC_MAGIC`.
    pub const MAGIC: u32 = 0;
    /// `type_id: u32`.
    pub const TYPE_ID: u32 = 4;
    /// `array_call`: the host shim, `extern "C" fn(host_func, caller_vmctx, *mut ValRaw, usize) -> u32`.
    pub const ARRAY_CALL: u32 = 8;
}

/// Offsets inside `VMStoreContext`, the per-store state shared by all its instances. The
/// loader may put more fields after these; compiled code reads only these.
pub mod store_ctx {
    /// `stack_limit: usize`: Wasm code traps with `StackOverflow` when sp would go below it
    /// (Cranelift's prologue check, in every function that calls or has a stack frame).
    /// The loader also uses it as the interruption check at function entry: while the
    /// `INTERRUPT` word is set it holds [`STACK_LIMIT_INTERRUPTED`], so the next prologue
    /// check fails, and the loader reports that failure as `Interrupt`.
    pub const STACK_LIMIT: u32 = 0;
    /// The `stack_limit` that fails every prologue check: `limit + frame_size` stays below
    /// 2^64 for the frames under 32 KiB that Cranelift checks with an addition, and any
    /// stack pointer is below it; bigger frames compare the stack pointer with the limit
    /// first.
    pub const STACK_LIMIT_INTERRUPTED: u64 = u64::MAX - 32 * 1024 + 1;
    /// `fuel_consumed: i64` (reserved for fuel metering).
    pub const FUEL_CONSUMED: u32 = 8;
    /// `interrupt: u64`: nonzero when Wasm running in the store must stop. Code compiled
    /// with epoch interruption reads it (atomically) at every loop header and traps with
    /// `Interrupt` when it is set; function entries are stopped through `STACK_LIMIT`. The
    /// loader sets it for an interrupt, a wall-clock deadline, or an epoch deadline that
    /// `increment_epoch` has reached, so the check is one load and one branch whatever
    /// stopped the store.
    pub const INTERRUPT: u32 = 16;
    /// `last_entry_fp`: frame pointer of the innermost entry trampoline.
    pub const LAST_ENTRY_FP: u32 = 24;
    /// `last_entry_sp`: stack pointer of the innermost entry trampoline.
    pub const LAST_ENTRY_SP: u32 = 32;
    /// `last_entry_handler`: address of that trampoline's trap landing pad.
    pub const LAST_ENTRY_HANDLER: u32 = 40;
    /// `last_exit_fp`: frame pointer of the last Wasm frame that called out to the host.
    pub const LAST_EXIT_FP: u32 = 48;
    /// `last_exit_pc`: return address into Wasm of that call.
    pub const LAST_EXIT_PC: u32 = 56;
    /// Size of the part compiled code knows about.
    pub const SIZE: u32 = 64;
}

/// Offsets of the fixed `VMContext` prefix.
pub mod vmctx {
    /// `magic: u32`.
    pub const MAGIC: u32 = 0;
    /// `store_ctx: *mut VMStoreContext`.
    pub const STORE_CTX: u32 = 8;
    /// `builtins: *const [fn ptr]`.
    pub const BUILTINS: u32 = 16;
    /// `epoch_ptr: *const AtomicU64`: the process-wide epoch (compiled code no longer reads
    /// it: it checks `store_ctx::INTERRUPT`; kept for builtins and debuggers).
    pub const EPOCH_PTR: u32 = 24;
    /// `type_ids: *const u32`.
    pub const TYPE_IDS: u32 = 32;
    /// `instance: *mut ()`, opaque to compiled code.
    pub const INSTANCE: u32 = 40;
    /// Size of the prefix; the arrays start here.
    pub const PREFIX_SIZE: u32 = 48;
}

/// The counts that determine a module's `VMContext` layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VMOffsetsCounts {
    /// Imported memories.
    pub imported_memories: u32,
    /// Memories defined by the module.
    pub defined_memories: u32,
    /// Imported functions.
    pub imported_functions: u32,
    /// Imported tables.
    pub imported_tables: u32,
    /// Imported globals.
    pub imported_globals: u32,
    /// Tables defined by the module.
    pub defined_tables: u32,
    /// Globals defined by the module.
    pub defined_globals: u32,
    /// Defined functions that need a `VMFuncRef` (exported, in a table, or `ref.func`ed).
    pub escaped_functions: u32,
}

/// Every offset of one module's `VMContext`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VMOffsets {
    /// The counts this layout was computed from.
    pub counts: VMOffsetsCounts,
    imported_memories: u32,
    memories: u32,
    imported_functions: u32,
    imported_tables: u32,
    imported_globals: u32,
    tables: u32,
    globals: u32,
    func_refs: u32,
    size: u32,
}

impl VMOffsets {
    /// Computes the layout for these counts. Sizes that do not fit in `u32` saturate, and
    /// [`VMOffsets::size`] then reports `u32::MAX`; the loader refuses such a module.
    pub fn new(counts: VMOffsetsCounts) -> VMOffsets {
        let mut at = u64::from(vmctx::PREFIX_SIZE);
        let mut next = |count: u32, size: u32, align: u32| -> u32 {
            let a = u64::from(align);
            at = at.div_ceil(a) * a;
            let start = at;
            at += u64::from(count) * u64::from(size);
            u32::try_from(start).unwrap_or(u32::MAX)
        };
        let imported_memories = next(counts.imported_memories, import_ref::SIZE, 8);
        let memories = next(counts.defined_memories, memory_def::SIZE, 8);
        let imported_functions = next(counts.imported_functions, func_ref::SIZE, 8);
        let imported_tables = next(counts.imported_tables, import_ref::SIZE, 8);
        let imported_globals = next(counts.imported_globals, global_import::SIZE, 8);
        let tables = next(counts.defined_tables, table_def::SIZE, 8);
        let globals = next(counts.defined_globals, global_def::SIZE, global_def::ALIGN);
        let func_refs = next(counts.escaped_functions, func_ref::SIZE, 8);
        let size = u32::try_from(align_up_u64(at, 16)).unwrap_or(u32::MAX);
        VMOffsets {
            counts,
            imported_memories,
            memories,
            imported_functions,
            imported_tables,
            imported_globals,
            tables,
            globals,
            func_refs,
            size,
        }
    }

    /// Total size of the `VMContext` in bytes (a multiple of 16).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Offset of `imported_memories[i]` (a `VMMemoryImport`).
    pub fn imported_memory(&self, i: u32) -> u32 {
        self.imported_memories + i * import_ref::SIZE
    }

    /// Offset of the defined memory `memories[i]` (a `VMMemoryDefinition`); `i` counts defined
    /// memories only.
    pub fn defined_memory(&self, i: u32) -> u32 {
        self.memories + i * memory_def::SIZE
    }

    /// Offset of `imported_functions[i]` (a `VMFuncRef`).
    pub fn imported_function(&self, i: u32) -> u32 {
        self.imported_functions + i * func_ref::SIZE
    }

    /// Offset of `imported_tables[i]` (a `VMTableImport`).
    pub fn imported_table(&self, i: u32) -> u32 {
        self.imported_tables + i * import_ref::SIZE
    }

    /// Offset of `imported_globals[i]` (a `VMGlobalImport`).
    pub fn imported_global(&self, i: u32) -> u32 {
        self.imported_globals + i * global_import::SIZE
    }

    /// Offset of the defined table `tables[i]` (a `VMTableDefinition`).
    pub fn defined_table(&self, i: u32) -> u32 {
        self.tables + i * table_def::SIZE
    }

    /// Offset of the defined global `globals[i]` (a `VMGlobalDefinition`).
    pub fn defined_global(&self, i: u32) -> u32 {
        self.globals + i * global_def::SIZE
    }

    /// Offset of `func_refs[i]` (a `VMFuncRef`), `i` being the escaped-function slot.
    pub fn func_ref(&self, i: u32) -> u32 {
        self.func_refs + i * func_ref::SIZE
    }
}

fn align_up_u64(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

/// The meaning of the interruption words (see `layout_hash`).
const INTERRUPT_PROTOCOL: u32 = 3;

/// A number that changes whenever any layout constant above changes; stamped into every
/// artifact header and compared by the loader (computed once: every load asks).
pub fn layout_hash() -> u64 {
    static HASH: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *HASH.get_or_init(compute_layout_hash)
}

fn compute_layout_hash() -> u64 {
    let probe = VMOffsets::new(VMOffsetsCounts {
        imported_memories: 1,
        defined_memories: 2,
        imported_functions: 3,
        imported_tables: 4,
        imported_globals: 5,
        defined_tables: 6,
        defined_globals: 7,
        escaped_functions: 8,
    });
    let words = [
        vmctx::STORE_CTX,
        vmctx::BUILTINS,
        vmctx::EPOCH_PTR,
        vmctx::TYPE_IDS,
        vmctx::INSTANCE,
        vmctx::PREFIX_SIZE,
        func_ref::ARRAY_CALL,
        func_ref::WASM_CALL,
        func_ref::VMCTX,
        func_ref::TYPE_ID,
        func_ref::SIZE,
        memory_def::BASE,
        memory_def::CURRENT_LENGTH,
        table_def::BASE,
        table_def::CURRENT_ELEMENTS,
        host_func::TYPE_ID,
        host_func::ARRAY_CALL,
        store_ctx::STACK_LIMIT,
        store_ctx::INTERRUPT,
        // What compiled code does with the words above, when the offsets stay the same:
        // 3 = a set `store_ctx::INTERRUPT` word stops loops, and function entries are stopped
        // only by the loader setting `STACK_LIMIT_INTERRUPTED` (2 checked the word at the
        // entry of every function that calls; 1 compared the epoch with a deadline).
        INTERRUPT_PROTOCOL,
        store_ctx::LAST_ENTRY_FP,
        store_ctx::LAST_ENTRY_SP,
        store_ctx::LAST_ENTRY_HANDLER,
        store_ctx::LAST_EXIT_FP,
        store_ctx::LAST_EXIT_PC,
        probe.imported_memory(0),
        probe.defined_memory(0),
        probe.imported_function(0),
        probe.imported_table(0),
        probe.imported_global(0),
        probe.defined_table(0),
        probe.defined_global(0),
        probe.func_ref(0),
        probe.size(),
        crate::builtins::Builtin::ALL.len() as u32,
    ];
    let mut h = crate::metadata::Fnv64::new();
    for w in words {
        h.write(&w.to_le_bytes());
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_module_is_just_the_prefix() {
        let o = VMOffsets::new(VMOffsetsCounts::default());
        assert_eq!(o.size(), vmctx::PREFIX_SIZE);
    }

    #[test]
    fn arrays_follow_each_other_and_globals_are_aligned() {
        let c = VMOffsetsCounts {
            imported_memories: 1,
            defined_memories: 1,
            imported_functions: 2,
            imported_tables: 1,
            imported_globals: 1,
            defined_tables: 1,
            defined_globals: 3,
            escaped_functions: 2,
        };
        let o = VMOffsets::new(c);
        assert_eq!(o.imported_memory(0), 48);
        assert_eq!(o.defined_memory(0), 64);
        assert_eq!(o.imported_function(0), 80);
        assert_eq!(o.imported_function(1), 112);
        assert_eq!(o.imported_table(0), 144);
        assert_eq!(o.imported_global(0), 160);
        assert_eq!(o.defined_table(0), 168);
        assert_eq!(o.defined_global(0), 192);
        assert_eq!(o.defined_global(0) % 16, 0);
        assert_eq!(o.func_ref(0), 240);
        assert_eq!(o.size(), 304);
    }

    #[test]
    fn huge_counts_saturate_instead_of_overflowing() {
        let c = VMOffsetsCounts {
            escaped_functions: u32::MAX,
            ..Default::default()
        };
        assert_eq!(VMOffsets::new(c).size(), u32::MAX);
    }

    #[test]
    fn layout_hash_is_stable_within_a_build() {
        assert_eq!(layout_hash(), layout_hash());
    }
}
