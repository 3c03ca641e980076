//! The builtins compiled code calls through `vmctx.builtins` (`wasmc_abi::Builtin`), one
//! `extern "C"` function each, in a `#[repr(C)]` table in `Builtin::ALL` order.
//!
//! Every builtin reaches the store through `vmctx -> store context -> opaque` (set by the
//! call path before entering Wasm) and the instance through `vmctx.instance` (its index in
//! the store). Builtins never unwind and never panic across the C boundary: bad indices are
//! treated as failures. A trapping builtin records the trap in the current activation and
//! returns nonzero; compiled code then raises `HostTrap`. Bounds are checked before any write,
//! so a failing bulk operation writes nothing (Wasm 2.0 semantics).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmc_abi::builtins::GROW_TRAPPED;
use wasmc_abi::{TrapCode, vmoffsets};

use crate::limits::{GrowRequest, Verdict};
use crate::memory::{grow_memory, memory_grow_request};
use crate::store::StoreOpaque;
use crate::table::{grow_table, table_grow_request};
use crate::traphandlers::{HostFailure, record_host_failure};
use crate::vmctx::{VMStoreContext, vmctx_word};

/// The builtin function table; field order is `Builtin::ALL` order (tested below).
#[repr(C)]
pub(crate) struct BuiltinTable {
    memory_grow: unsafe extern "C" fn(*mut u8, u32, u64) -> u64,
    memory_copy: unsafe extern "C" fn(*mut u8, u32, u64, u32, u64, u64) -> u32,
    memory_fill: unsafe extern "C" fn(*mut u8, u32, u64, u32, u64) -> u32,
    memory_init: unsafe extern "C" fn(*mut u8, u32, u32, u64, u32, u32) -> u32,
    data_drop: unsafe extern "C" fn(*mut u8, u32),
    table_grow: unsafe extern "C" fn(*mut u8, u32, u64, usize) -> u64,
    table_fill: unsafe extern "C" fn(*mut u8, u32, u64, usize, u64) -> u32,
    table_copy: unsafe extern "C" fn(*mut u8, u32, u32, u64, u64, u64) -> u32,
    table_init: unsafe extern "C" fn(*mut u8, u32, u32, u64, u32, u32) -> u32,
    elem_drop: unsafe extern "C" fn(*mut u8, u32),
    new_epoch: unsafe extern "C" fn(*mut u8) -> u32,
}

static BUILTINS: BuiltinTable = BuiltinTable {
    memory_grow,
    memory_copy,
    memory_fill,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    new_epoch,
};

/// Address of the builtin table, for `vmctx.builtins`.
pub(crate) fn builtins_table() -> usize {
    &raw const BUILTINS as usize
}

/// The store and instance index of a calling vmctx.
///
/// # Safety
///
/// `vmctx` must be the live vmctx of an instance whose store is running Wasm on this thread
/// (so its store context's `opaque` points at that store, which nothing else is using).
unsafe fn context<'a>(vmctx: *mut u8) -> (&'a mut StoreOpaque, usize) {
    // SAFETY: per the contract.
    unsafe {
        let ctx = vmctx_word(vmctx, vmoffsets::vmctx::STORE_CTX) as *mut VMStoreContext;
        let index = vmctx_word(vmctx, vmoffsets::vmctx::INSTANCE);
        (&mut *(*ctx).opaque.cast::<StoreOpaque>(), index)
    }
}

fn trap(code: TrapCode) -> u32 {
    record_host_failure(HostFailure::Trap(code));
    1
}

/// `[start, start + len)` as a `usize` range if it fits in `size`.
fn range(start: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    if end > size as u64 {
        return None;
    }
    Some(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

fn memory_id(store: &StoreOpaque, inst: usize, mem: u32) -> Option<usize> {
    store
        .instances
        .get(inst)?
        .memories
        .get(mem as usize)
        .copied()
}

fn table_id(store: &StoreOpaque, inst: usize, table: u32) -> Option<usize> {
    store
        .instances
        .get(inst)?
        .tables
        .get(table as usize)
        .copied()
}

/// What the store's resource limiter (if any) says about `request` (`None`: nothing to
/// ask), as a `grow` builtin must answer: `None` to go on, `Some(u64::MAX)` (-1) if refused,
/// `Some(GROW_TRAPPED)` after recording the limiter's error, or its panic, as the trap.
///
/// # Safety
///
/// `store` comes from `context` in a builtin called by compiled code (so the store context's
/// `store` points at the running `Store<T>` that `limiter_hook` was made for).
unsafe fn ask_limiter(store: &StoreOpaque, request: Option<GrowRequest>) -> Option<u64> {
    let (Some(hook), Some(request)) = (store.limiter_hook, request) else {
        return None;
    };
    // SAFETY: the store context is live while its store runs Wasm; a field read (another
    // thread may write `interrupt`, never `store`).
    let store_ptr = unsafe { (&raw const (*store.ctx_ptr()).store).read() };
    // The limiter is host code: it must not unwind into compiled code.
    // SAFETY: per the contract, `store_ptr` is the running `Store<T>` of `hook`'s `T`; the
    // caller holds only the store's `opaque`, which the hook does not touch.
    let verdict = catch_unwind(AssertUnwindSafe(|| unsafe { hook(store_ptr, &request) }));
    match verdict {
        Ok(Ok(Verdict::Allow)) => None,
        Ok(Ok(Verdict::Refuse(_))) => Some(u64::MAX),
        Ok(Err(e)) => {
            record_host_failure(HostFailure::Error(e));
            Some(GROW_TRAPPED)
        }
        Err(panic) => {
            record_host_failure(HostFailure::Panic(panic));
            Some(GROW_TRAPPED)
        }
    }
}

/// `memory.grow`: old size in pages, `u64::MAX` (-1) if it cannot grow, or `GROW_TRAPPED`
/// after recording a trap (the resource limiter failed).
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let Some(id) = memory_id(store, inst, mem).filter(|id| *id < store.memories.len()) else {
        return u64::MAX;
    };
    if delta > 0 {
        let request = memory_grow_request(&store.memories[id], delta);
        // SAFETY: `store` comes from `context` in a builtin.
        if let Some(answer) = unsafe { ask_limiter(store, request) } {
            return answer;
        }
    }
    grow_memory(&mut store.memories[id], delta).unwrap_or(u64::MAX)
}

/// `memory.copy`, possibly between two memories; overlapping ranges behave like memmove.
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_mem: u32,
    dst: u64,
    src_mem: u32,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let (Some(d), Some(s)) = (
        memory_id(store, inst, dst_mem),
        memory_id(store, inst, src_mem),
    ) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    let (dd, sd) = (store.memories[d].def.read(), store.memories[s].def.read());
    let (Some(dr), Some(sr)) = (
        range(dst, len, dd.current_length),
        range(src, len, sd.current_length),
    ) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    // SAFETY: both ranges are inside the accessible parts of live memories; `copy` allows
    // overlap (memmove).
    unsafe { std::ptr::copy(sd.base.add(sr.start), dd.base.add(dr.start), dr.len()) };
    0
}

/// `memory.fill`.
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u64, byte: u32, len: u64) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let Some(m) = memory_id(store, inst, mem).and_then(|id| store.memories.get_mut(id)) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    let bytes = m.map.as_mut_slice();
    match range(dst, len, bytes.len()) {
        Some(r) => {
            bytes[r].fill(byte.to_le_bytes()[0]);
            0
        }
        None => trap(TrapCode::MemoryOutOfBounds),
    }
}

/// `memory.init` from a (possibly dropped) data segment.
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn memory_init(
    vmctx: *mut u8,
    mem: u32,
    data_index: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let Some(id) = memory_id(store, inst, mem) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    let Some(seg) = store
        .instances
        .get(inst)
        .and_then(|i| i.data_segment(data_index as usize))
    else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    let Some(sr) = range(u64::from(src), u64::from(len), seg.len()) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    let def = store.memories[id].def.read();
    let Some(dr) = range(dst, u64::from(len), def.current_length) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    // SAFETY: `dr` is inside the memory's accessible part; `seg` is artifact data, never
    // inside a linear memory, so the ranges do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(seg[sr].as_ptr(), def.base.add(dr.start), dr.len());
    }
    0
}

/// `data.drop`.
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn data_drop(vmctx: *mut u8, data_index: u32) {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    if let Some(d) = store
        .instances
        .get_mut(inst)
        .and_then(|i| i.dropped_datas.get_mut(data_index as usize))
    {
        *d = true;
    }
}

/// `table.grow`: old size, `u64::MAX` (-1), or `GROW_TRAPPED` (as `memory_grow`).
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u64, init: usize) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let Some(id) = table_id(store, inst, table).filter(|id| *id < store.tables.len()) else {
        return u64::MAX;
    };
    if delta > 0 {
        let request = table_grow_request(&store.tables[id], delta);
        // SAFETY: `store` comes from `context` in a builtin.
        if let Some(answer) = unsafe { ask_limiter(store, request) } {
            return answer;
        }
    }
    grow_table(&mut store.tables[id], delta, init).unwrap_or(u64::MAX)
}

/// `table.fill`.
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn table_fill(
    vmctx: *mut u8,
    table: u32,
    dst: u64,
    value: usize,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let Some(t) = table_id(store, inst, table).and_then(|id| store.tables.get_mut(id)) else {
        return trap(TrapCode::TableOutOfBounds);
    };
    match range(dst, len, t.elements.len()) {
        Some(r) => {
            t.elements[r].fill(value);
            0
        }
        None => trap(TrapCode::TableOutOfBounds),
    }
}

/// `table.copy`, possibly between two tables; overlap behaves like memmove.
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let (Some(d), Some(s)) = (
        table_id(store, inst, dst_table),
        table_id(store, inst, src_table),
    ) else {
        return trap(TrapCode::TableOutOfBounds);
    };
    let (Some(dr), Some(sr)) = (
        range(dst, len, store.tables[d].elements.len()),
        range(src, len, store.tables[s].elements.len()),
    ) else {
        return trap(TrapCode::TableOutOfBounds);
    };
    if d == s {
        store.tables[d].elements.copy_within(sr, dr.start);
    } else {
        let items = store.tables[s].elements[sr].to_vec();
        store.tables[d].elements[dr].copy_from_slice(&items);
    }
    0
}

/// `table.init` from a (possibly dropped) element segment.
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    elem_index: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let Some(id) = table_id(store, inst, table) else {
        return trap(TrapCode::TableOutOfBounds);
    };
    let Some(seg) = store
        .instances
        .get(inst)
        .and_then(|i| i.elems.get(elem_index as usize))
    else {
        return trap(TrapCode::TableOutOfBounds);
    };
    let (Some(sr), Some(dr)) = (
        range(u64::from(src), u64::from(len), seg.len()),
        range(dst, u64::from(len), store.tables[id].elements.len()),
    ) else {
        return trap(TrapCode::TableOutOfBounds);
    };
    let items = seg[sr].to_vec();
    store.tables[id].elements[dr].copy_from_slice(&items);
    0
}

/// `elem.drop`.
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn elem_drop(vmctx: *mut u8, elem_index: u32) {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    if let Some(e) = store
        .instances
        .get_mut(inst)
        .and_then(|i| i.elems.get_mut(elem_index as usize))
    {
        *e = Vec::new();
    }
}

/// Traps with `Interrupt` if the store's interrupt word is set (compiled code checks the
/// word inline and does not call this today; it stays for a deadline-extension callback).
///
/// # Safety
///
/// Only compiled code calls it, passing its own live `vmctx` while its store runs Wasm on
/// this thread (the contract of `context`).
unsafe extern "C" fn new_epoch(vmctx: *mut u8) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    let ctx = store.ctx.vm_ptr().as_ptr();
    // SAFETY: the live store context; `interrupt` is 8-byte aligned and every concurrent
    // access to it is atomic (`interrupt.rs`).
    let interrupt = unsafe { AtomicU64::from_ptr(&raw mut (*ctx).interrupt) };
    if interrupt.load(Ordering::SeqCst) != 0 {
        trap(TrapCode::Interrupt)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use super::*;
    use wasmc_abi::Builtin;

    #[test]
    fn table_is_in_builtin_order() {
        assert_eq!(size_of::<BuiltinTable>(), Builtin::ALL.len() * 8);
        let offsets = [
            (Builtin::MemoryGrow, offset_of!(BuiltinTable, memory_grow)),
            (Builtin::MemoryCopy, offset_of!(BuiltinTable, memory_copy)),
            (Builtin::MemoryFill, offset_of!(BuiltinTable, memory_fill)),
            (Builtin::MemoryInit, offset_of!(BuiltinTable, memory_init)),
            (Builtin::DataDrop, offset_of!(BuiltinTable, data_drop)),
            (Builtin::TableGrow, offset_of!(BuiltinTable, table_grow)),
            (Builtin::TableFill, offset_of!(BuiltinTable, table_fill)),
            (Builtin::TableCopy, offset_of!(BuiltinTable, table_copy)),
            (Builtin::TableInit, offset_of!(BuiltinTable, table_init)),
            (Builtin::ElemDrop, offset_of!(BuiltinTable, elem_drop)),
            (Builtin::NewEpoch, offset_of!(BuiltinTable, new_epoch)),
        ];
        assert_eq!(offsets.len(), Builtin::ALL.len());
        for (b, off) in offsets {
            assert_eq!(off, b.index() as usize * 8, "{}", b.name());
        }
    }

    #[test]
    fn ranges_never_overflow() {
        assert_eq!(range(0, 0, 0), Some(0..0));
        assert_eq!(range(1, 0, 0), None);
        assert_eq!(range(u64::MAX, 2, 10), None);
        assert_eq!(range(2, 3, 5), Some(2..5));
        assert_eq!(range(2, 4, 5), None);
    }
}
