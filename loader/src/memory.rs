//! [`Memory`]: linear memories, defined by instances or created by the host.
//!
//! A 32-bit memory reserves `MEMORY_RESERVATION + MEMORY_GUARD` bytes of address space
//! (4 GiB + 32 MiB); `[0, size)` is read-write and `memory.grow` only changes protection, so
//! the base never moves (compiled code relies on that; `docs/ARCHITECTURE.md` §4).
//!
//! A 64-bit memory (memory64) gets the same reservation and never moves either: compiled
//! code bounds-checks every access to it explicitly against `current_length`, and its size
//! is capped at [`MAX_PAGES`] (4 GiB), so `memory.grow` past the cap fails (returns -1) as
//! the spec allows, and a minimum above the cap is refused at instantiation.

use wasmc_abi::metadata::{MemoryType, WASM_PAGE_SIZE};

use crate::artifact::{MEMORY_GUARD, MEMORY_RESERVATION};
use crate::error::Error;
use crate::limits::{GrowRequest, Verdict};
use crate::mmap::MemoryMap;
use crate::store::{MemoryData, Store};
use crate::vmctx::{OwnedVm, VMMemoryDefinition, VmPtr};

/// The most pages a memory can have (4 GiB): all of a 32-bit memory's index space, and the
/// cap of a 64-bit memory.
pub const MAX_PAGES: u64 = 65536;

/// A linear memory in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

/// Creates the store record of a memory. `def` is where its `VMMemoryDefinition` lives (in
/// an instance's vmctx); `None` allocates one (host-created memories).
pub(crate) fn new_memory_data(
    ty: MemoryType,
    def: Option<(VmPtr<VMMemoryDefinition>, usize)>,
) -> Result<MemoryData, Error> {
    if ty.shared {
        return Err(Error::instantiate("unsupported: shared memories (threads)"));
    }
    if ty.page_size_log2 != 16 {
        return Err(Error::instantiate(
            "unsupported: custom page sizes (only 64 KiB pages)",
        ));
    }
    let max_pages = ty.max.unwrap_or(MAX_PAGES).min(MAX_PAGES);
    if ty.idx64 && ty.min > MAX_PAGES {
        return Err(Error::instantiate(format!(
            "unsupported: a 64-bit memory of {} pages (wasmc caps memories at {MAX_PAGES} \
             pages, 4 GiB)",
            ty.min
        )));
    }
    if ty.min > max_pages {
        return Err(Error::instantiate(format!(
            "memory minimum of {} pages exceeds its maximum of {max_pages} pages",
            ty.min
        )));
    }
    let bytes = usize::try_from(ty.min * WASM_PAGE_SIZE)
        .map_err(|_| Error::instantiate("memory too large for this host"))?;
    let reservation = usize::try_from(MEMORY_RESERVATION + MEMORY_GUARD)
        .map_err(|_| Error::instantiate("memory reservation too large for this host"))?;
    let map = MemoryMap::new(reservation, bytes).map_err(|e| {
        Error::instantiate(format!(
            "cannot reserve {reservation:#x} bytes for a linear memory: {e}"
        ))
    })?;
    let value = VMMemoryDefinition {
        base: map.base(),
        current_length: bytes,
    };
    let (def, vmctx, owned) = match def {
        Some((p, vmctx)) => (p, vmctx, None),
        None => {
            let owned = OwnedVm::new(value);
            (owned.vm_ptr(), 0, Some(owned))
        }
    };
    def.write(value);
    Ok(MemoryData {
        ty,
        map,
        def,
        vmctx,
        _owned: owned,
        max_pages,
    })
}

/// The question for the store's resource limiter before memory `m` grows by `delta` pages;
/// `None` if the new size is not even addressable (the growth fails without asking).
pub(crate) fn memory_grow_request(m: &MemoryData, delta: u64) -> Option<GrowRequest> {
    let old = (m.map.accessible() as u64) / WASM_PAGE_SIZE;
    GrowRequest::memory(old, old.checked_add(delta)?, m.ty.max)
}

/// Grows a memory by `delta` pages; the old size in pages, or `None` if it cannot grow.
/// The resource limiter has been asked already (`memory_grow_request`).
pub(crate) fn grow_memory(m: &mut MemoryData, delta: u64) -> Option<u64> {
    let old = (m.map.accessible() as u64) / WASM_PAGE_SIZE;
    let new = old.checked_add(delta)?;
    if new > m.max_pages {
        return None;
    }
    if delta == 0 {
        return Some(old);
    }
    let bytes = usize::try_from(new.checked_mul(WASM_PAGE_SIZE)?).ok()?;
    m.map.grow_to(bytes).ok()?;
    m.def.write(VMMemoryDefinition {
        base: m.map.base(),
        current_length: bytes,
    });
    Some(old)
}

/// Writes an active data segment's `bytes` at `off` in memory `m` (instantiation), or traps
/// with `MemoryOutOfBounds` if they do not fit (writing nothing).
///
/// `file` is where the same bytes lie in the artifact file (the open file and the offset of
/// the segment's first byte), for a memory the instance being created defines. Then the
/// host pages that the segment covers entirely are mapped from the file, private and
/// copy-on-write ([`crate::mmap::MemoryMap::map_file`]), and only the partial pages at either
/// end are copied: instantiating a large segment costs a system call instead of a copy, and
/// its pages are read from the page cache only when touched. That needs the file offset and
/// the memory offset to agree modulo the page size, which the compiler arranges for large
/// segments with constant offsets (`wasmc_abi::obj::COW_ALIGN`). Otherwise, or if the kernel
/// refuses the mapping, everything is copied.
///
/// Segments are written in module order and a mapping replaces only whole pages that the
/// segment covers entirely, so a later segment overwrites an earlier one exactly as copying
/// would.
pub(crate) fn init_data(
    m: &mut MemoryData,
    off: usize,
    bytes: &[u8],
    file: Option<(&std::fs::File, u64)>,
) -> Result<(), Error> {
    let end = off
        .checked_add(bytes.len())
        .filter(|end| *end <= m.map.accessible())
        .ok_or_else(|| Error::trap(wasmc_abi::TrapCode::MemoryOutOfBounds))?;
    let p = crate::mmap::page_size();
    // The whole pages inside `[off, end)`.
    let pages = crate::mmap::round_up_to_page(off)
        .map(|first| first..end / p * p)
        .filter(|r| r.start < r.end);
    if let (Some(pages), Some((file, file_off))) = (pages, file)
        && file_off % p as u64 == off as u64 % p as u64
        && m.map
            .map_file(pages.clone(), file, file_off + (pages.start - off) as u64)
            .map_err(|e| Error::instantiate(format!("mapping a data segment: {e}")))?
    {
        let mem = m.map.as_mut_slice();
        let (head, tail) = (pages.start - off, pages.end - off);
        mem[off..pages.start].copy_from_slice(&bytes[..head]);
        mem[pages.end..end].copy_from_slice(&bytes[tail..]);
        return Ok(());
    }
    m.map.as_mut_slice()[off..end].copy_from_slice(bytes);
    Ok(())
}

impl Memory {
    /// Creates a memory owned by the host (e.g. the spec tests' `spectest.memory`).
    ///
    /// # Errors
    ///
    /// An instantiation error if the type is unsupported (shared, custom pages), the address
    /// space cannot be reserved, or the store's resource limiter refuses it
    /// ([`crate::ResourceLimiter`]: the store's count of memories, the initial size).
    pub fn new<T>(store: &mut Store<T>, ty: MemoryType) -> Result<Memory, Error> {
        store.check_counts(1, 0)?;
        if store.limiter.is_some() {
            store.check_initial(GrowRequest::memory(0, ty.min, ty.max))?;
        }
        let data = new_memory_data(ty, None)?;
        store.opaque.memories.push(data);
        Ok(Memory {
            store_id: store.opaque.id,
            index: store.opaque.memories.len() - 1,
        })
    }

    fn rec<'s, T>(&self, store: &'s Store<T>) -> &'s MemoryData {
        store.opaque.assert_owns(self.store_id, "memory");
        &store.opaque.memories[self.index]
    }

    fn rec_mut<'s, T>(&self, store: &'s mut Store<T>) -> &'s mut MemoryData {
        store.opaque.assert_owns(self.store_id, "memory");
        &mut store.opaque.memories[self.index]
    }

    /// The memory's type, with the current size as minimum.
    ///
    /// # Panics
    ///
    /// If the memory belongs to another store (as every accessor of a memory).
    pub fn ty<T>(&self, store: &Store<T>) -> MemoryType {
        let m = self.rec(store);
        MemoryType {
            min: m.map.accessible() as u64 / WASM_PAGE_SIZE,
            ..m.ty
        }
    }

    /// The memory's bytes.
    pub fn data<'s, T>(&self, store: &'s Store<T>) -> &'s [u8] {
        self.rec(store).map.as_slice()
    }

    /// The memory's bytes, mutably.
    pub fn data_mut<'s, T>(&self, store: &'s mut Store<T>) -> &'s mut [u8] {
        self.rec_mut(store).map.as_mut_slice()
    }

    /// Size in pages.
    pub fn size<T>(&self, store: &Store<T>) -> u64 {
        self.rec(store).map.accessible() as u64 / WASM_PAGE_SIZE
    }

    /// Size in bytes.
    pub fn data_size<T>(&self, store: &Store<T>) -> usize {
        self.rec(store).map.accessible()
    }

    /// Grows the memory by `delta` pages, returning the old size in pages. The store's
    /// resource limiter ([`Store::limiter`]) is asked first.
    ///
    /// # Errors
    ///
    /// A usage error if the memory would exceed its maximum; an instantiation-kind error
    /// naming the limit if the resource limiter refuses, or the limiter's own error.
    pub fn grow<T>(&self, store: &mut Store<T>, delta: u64) -> Result<u64, Error> {
        store.opaque.check(self.store_id, "memory")?;
        if delta > 0
            && store.limiter.is_some()
            && let Some(request) = memory_grow_request(self.rec(store), delta)
            && let Verdict::Refuse(limit) = store.ask_limiter(&request)?
        {
            return Err(request.refused(limit));
        }
        grow_memory(self.rec_mut(store), delta)
            .ok_or_else(|| Error::usage(format!("memory cannot grow by {delta} pages")))
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    ///
    /// # Errors
    ///
    /// A `MemoryOutOfBounds` trap if the range is outside the memory.
    pub fn read<T>(&self, store: &Store<T>, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
        let src = offset
            .checked_add(buf.len())
            .and_then(|end| self.data(store).get(offset..end))
            .ok_or_else(|| Error::trap(wasmc_abi::TrapCode::MemoryOutOfBounds))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    /// Copies `buf` into the memory at `offset`.
    ///
    /// # Errors
    ///
    /// A `MemoryOutOfBounds` trap if the range is outside the memory.
    pub fn write<T>(&self, store: &mut Store<T>, offset: usize, buf: &[u8]) -> Result<(), Error> {
        let dst = offset
            .checked_add(buf.len())
            .and_then(|end| self.data_mut(store).get_mut(offset..end))
            .ok_or_else(|| Error::trap(wasmc_abi::TrapCode::MemoryOutOfBounds))?;
        dst.copy_from_slice(buf);
        Ok(())
    }
}
