//! Builtins: runtime functions that compiled code calls through `vmctx.builtins`.
//!
//! `VMContext.builtins` points to an array of function pointers, one per [`Builtin`], in
//! the order of [`Builtin::ALL`]. Each uses the platform C calling convention and takes the
//! calling instance's `vmctx` first. The loader implements them (`loader/src/libcalls.rs`),
//! one Rust `extern "C"` function each, with these Rust types for the [`BuiltinType`]s:
//! `VmCtx` = `*mut VMContext`, `I32` = `u32`, `I64` = `u64`, `Ptr` = `usize`.
//!
//! Builtins that can trap return an `I32` status: 0 on success; otherwise the loader has
//! recorded the trap reason and compiled code raises [`crate::TrapCode::HostTrap`] at once.
//! Keep [`Builtin::ALL`] and [`Builtin::signature`] in sync; a change bumps the format version.

/// What `memory_grow` and `table_grow` return when they recorded a trap instead of
/// answering: -2 as an `i64`. No old size can be this large (memories have at most 2^48
/// pages, tables far fewer elements than 2^63), so it cannot be confused with a success, and
/// -1 keeps its Wasm meaning ("cannot grow").
pub const GROW_TRAPPED: u64 = u64::MAX - 1;

/// A parameter or result type of a builtin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinType {
    /// The calling instance's `*mut VMContext`.
    VmCtx,
    /// A 32-bit integer.
    I32,
    /// A 64-bit integer.
    I64,
    /// A pointer-sized integer (a table element: funcref or externref bits).
    Ptr,
}

/// The signature of a builtin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinSignature {
    /// Parameter types; the first is always [`BuiltinType::VmCtx`].
    pub params: &'static [BuiltinType],
    /// Result type, if any.
    pub result: Option<BuiltinType>,
}

/// One runtime function callable from compiled code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Builtin {
    /// `memory_grow(vmctx, memory_index: i32, delta_pages: i64) -> i64`: the old size in pages,
    /// or -1 if the memory cannot grow by that much, or [`GROW_TRAPPED`] after recording a
    /// trap (a resource limiter refused the growth and asked for a trap, or failed);
    /// compiled code then raises [`crate::TrapCode::HostTrap`].
    MemoryGrow = 0,
    /// `memory_copy(vmctx, dst_mem: i32, dst: i64, src_mem: i32, src: i64, len: i64) -> i32`.
    MemoryCopy = 1,
    /// `memory_fill(vmctx, mem: i32, dst: i64, byte: i32, len: i64) -> i32`.
    MemoryFill = 2,
    /// `memory_init(vmctx, mem: i32, data_index: i32, dst: i64, src: i32, len: i32) -> i32`.
    MemoryInit = 3,
    /// `data_drop(vmctx, data_index: i32)`.
    DataDrop = 4,
    /// `table_grow(vmctx, table: i32, delta: i64, init: ptr) -> i64`: old size or -1, or
    /// [`GROW_TRAPPED`] after recording a trap (as `memory_grow`).
    TableGrow = 5,
    /// `table_fill(vmctx, table: i32, dst: i64, value: ptr, len: i64) -> i32`.
    TableFill = 6,
    /// `table_copy(vmctx, dst_table: i32, src_table: i32, dst: i64, src: i64, len: i64) -> i32`.
    TableCopy = 7,
    /// `table_init(vmctx, table: i32, elem_index: i32, dst: i64, src: i32, len: i32) -> i32`.
    TableInit = 8,
    /// `elem_drop(vmctx, elem_index: i32)`.
    ElemDrop = 9,
    /// `new_epoch(vmctx) -> i32`: called when the epoch deadline has passed; returns 0 to go
    /// on (the deadline was extended) or nonzero after recording an `Interrupt` trap.
    NewEpoch = 10,
}

use BuiltinType::{I32, I64, Ptr, VmCtx};

impl Builtin {
    /// Every builtin, in `vmctx.builtins` order.
    pub const ALL: [Builtin; 11] = [
        Builtin::MemoryGrow,
        Builtin::MemoryCopy,
        Builtin::MemoryFill,
        Builtin::MemoryInit,
        Builtin::DataDrop,
        Builtin::TableGrow,
        Builtin::TableFill,
        Builtin::TableCopy,
        Builtin::TableInit,
        Builtin::ElemDrop,
        Builtin::NewEpoch,
    ];

    /// Index in the `vmctx.builtins` array.
    pub fn index(self) -> u32 {
        self as u32
    }

    /// Name, used for trampoline symbols and diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::MemoryGrow => "memory_grow",
            Builtin::MemoryCopy => "memory_copy",
            Builtin::MemoryFill => "memory_fill",
            Builtin::MemoryInit => "memory_init",
            Builtin::DataDrop => "data_drop",
            Builtin::TableGrow => "table_grow",
            Builtin::TableFill => "table_fill",
            Builtin::TableCopy => "table_copy",
            Builtin::TableInit => "table_init",
            Builtin::ElemDrop => "elem_drop",
            Builtin::NewEpoch => "new_epoch",
        }
    }

    /// Native signature.
    pub fn signature(self) -> BuiltinSignature {
        let (params, result): (&'static [BuiltinType], Option<BuiltinType>) = match self {
            Builtin::MemoryGrow => (&[VmCtx, I32, I64], Some(I64)),
            Builtin::MemoryCopy => (&[VmCtx, I32, I64, I32, I64, I64], Some(I32)),
            Builtin::MemoryFill => (&[VmCtx, I32, I64, I32, I64], Some(I32)),
            Builtin::MemoryInit => (&[VmCtx, I32, I32, I64, I32, I32], Some(I32)),
            Builtin::DataDrop => (&[VmCtx, I32], None),
            Builtin::TableGrow => (&[VmCtx, I32, I64, Ptr], Some(I64)),
            Builtin::TableFill => (&[VmCtx, I32, I64, Ptr, I64], Some(I32)),
            Builtin::TableCopy => (&[VmCtx, I32, I32, I64, I64, I64], Some(I32)),
            Builtin::TableInit => (&[VmCtx, I32, I32, I64, I32, I32], Some(I32)),
            Builtin::ElemDrop => (&[VmCtx, I32], None),
            Builtin::NewEpoch => (&[VmCtx], Some(I32)),
        };
        BuiltinSignature { params, result }
    }

    /// Whether the builtin returns a trap status (see the module docs).
    pub fn can_trap(self) -> bool {
        matches!(
            self,
            Builtin::MemoryCopy
                | Builtin::MemoryFill
                | Builtin::MemoryInit
                | Builtin::TableFill
                | Builtin::TableCopy
                | Builtin::TableInit
                | Builtin::NewEpoch
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_index_order() {
        for (i, b) in Builtin::ALL.iter().enumerate() {
            assert_eq!(b.index() as usize, i);
            assert_eq!(b.signature().params.first(), Some(&BuiltinType::VmCtx));
            if b.can_trap() {
                assert_eq!(b.signature().result, Some(BuiltinType::I32), "{}", b.name());
            }
        }
    }
}
