//! The `#[repr(C)]` records compiled code reads, the `VMContext` allocation, and the pointer
//! wrappers the rest of the loader uses to reach them safely.
//!
//! The layout itself is `wasmc_abi::vmoffsets`; the tests at the bottom assert, field by
//! field, that every struct here matches it. Compiled code reads and writes these records
//! behind Rust's back, so the loader never holds Rust references into them across a call
//! into Wasm: it goes through [`VmPtr`] (read/write by value) instead.

use std::alloc::Layout;
use std::ptr::NonNull;

use wasmc_abi::vmoffsets;

/// How a function is called from anywhere: a funcref value points at one of these.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    /// Array-call entry point (entry trampoline, or the host shim of a host function).
    pub array_call: *const u8,
    /// `tail`-convention entry point.
    pub wasm_call: *const u8,
    /// The callee vmctx: an instance's `VMContext` or a `VMHostFunc`.
    pub vmctx: *mut u8,
    /// Canonical type id.
    pub type_id: u32,
}

/// A defined linear memory, as compiled code sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMMemoryDefinition {
    /// Base address; never moves.
    pub base: *mut u8,
    /// Accessible length in bytes.
    pub current_length: usize,
}

/// An imported memory: where its definition is.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMMemoryImport {
    /// The exporter's definition.
    pub from: *mut VMMemoryDefinition,
    /// The exporter's vmctx (null for host-created memories).
    pub vmctx: *mut u8,
}

/// A defined table, as compiled code sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMTableDefinition {
    /// Base of the element array; moves when the table grows.
    pub base: *mut usize,
    /// Number of elements.
    pub current_elements: usize,
}

/// An imported table: where its definition is.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMTableImport {
    /// The exporter's definition.
    pub from: *mut VMTableDefinition,
    /// The exporter's vmctx (null for host-created tables).
    pub vmctx: *mut u8,
}

/// An imported global: where its value is.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMGlobalImport {
    /// The exporter's definition.
    pub from: *mut VMGlobalDefinition,
}

/// A global's storage: the value little-endian at offset 0.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobalDefinition {
    /// The value's bytes.
    pub bytes: [u8; 16],
}

/// The callee vmctx of a host function. Compiled code reads `magic`, `type_id` and
/// `array_call`; the rest is the loader's.
#[repr(C)]
#[derive(Debug)]
pub struct VMHostFunc {
    /// `VMHOSTFUNC_MAGIC`.
    pub magic: u32,
    /// Canonical type id.
    pub type_id: u32,
    /// The host shim.
    pub array_call: *const u8,
    /// The function's own funcref (its `wasm_call` is filled when a module imports it).
    pub func_ref: VMFuncRef,
    /// The loader's state for the function (`HostFuncState<T>`).
    pub state: *const (),
    /// The closure of a typed host function, read by its own shim (`typed_host_shim`);
    /// null for an untyped one.
    pub body: *const (),
    /// The store that owns it.
    pub store_id: u64,
}

/// Per-store state shared by all its instances. The first fields are read by compiled code;
/// `store` and `opaque` are the loader's way back to the store from a vmctx.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMStoreContext {
    /// Lowest stack address Wasm may use, or `STACK_LIMIT_INTERRUPTED` while the store must
    /// stop (`interrupt.rs`); accessed atomically while Wasm runs.
    pub stack_limit: usize,
    /// Reserved for fuel.
    pub fuel_consumed: i64,
    /// Nonzero when Wasm running in the store must stop (`store_ctx::INTERRUPT`); written
    /// only by `interrupt.rs`, atomically.
    pub interrupt: u64,
    /// Frame pointer of the innermost entry trampoline.
    pub last_entry_fp: usize,
    /// Stack pointer of the innermost entry trampoline.
    pub last_entry_sp: usize,
    /// Landing pad of the innermost entry trampoline.
    pub last_entry_handler: usize,
    /// Frame pointer of the last Wasm frame that called the host.
    pub last_exit_fp: usize,
    /// Return pc of that call.
    pub last_exit_pc: usize,
    /// The `Store<T>` while Wasm runs (set by the call path).
    pub store: *mut (),
    /// The store's non-generic part while Wasm runs (set by the call path).
    pub opaque: *mut (),
    /// The real stack limit of the running outermost call, which `stack_limit` goes back to
    /// when a stop is withdrawn during the call (`interrupt.rs`); accessed atomically.
    pub wasm_stack_limit: usize,
    /// Kernel id of the thread running Wasm of the store, 0 while none does (also while
    /// Wasm has called out to a host function). Written by that thread, read by whoever
    /// stops the store to know where to send the interruption signal (`interrupt.rs`);
    /// accessed atomically.
    pub running_tid: u64,
}

/// A pointer to a record compiled code also reads or writes.
///
/// Invariant (established by the `unsafe` constructor): the pointee is valid and suitably
/// aligned for as long as the store that holds this pointer is alive, and no Rust reference
/// to it is held across calls. Reads and writes are then by value and safe.
#[derive(Debug)]
pub(crate) struct VmPtr<T>(NonNull<T>);

impl<T> Clone for VmPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for VmPtr<T> {}

// SAFETY: a VmPtr is an address owned by a store; the store decides which thread uses it.
unsafe impl<T> Send for VmPtr<T> {}
// SAFETY: as above; all access goes through the owning store.
unsafe impl<T> Sync for VmPtr<T> {}

impl<T: Copy> VmPtr<T> {
    /// Wraps `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid and aligned for `T` for as long as the owning store is alive.
    pub(crate) unsafe fn new(ptr: NonNull<T>) -> VmPtr<T> {
        VmPtr(ptr)
    }

    /// The raw pointer.
    pub(crate) fn as_ptr(self) -> *mut T {
        self.0.as_ptr()
    }

    /// Reads the record.
    pub(crate) fn read(self) -> T {
        // SAFETY: valid and aligned per the type invariant; no reference to it is alive.
        unsafe { self.0.as_ptr().read() }
    }

    /// Writes the record.
    pub(crate) fn write(self, v: T) {
        // SAFETY: valid and aligned per the type invariant; no reference to it is alive.
        unsafe { self.0.as_ptr().write(v) }
    }
}

/// A heap-allocated record with a stable address (host-created memories, tables, globals,
/// and host functions), freed on drop.
#[derive(Debug)]
pub(crate) struct OwnedVm<T: Copy> {
    ptr: NonNull<T>,
}

// SAFETY: owned heap memory; see `VmPtr`.
unsafe impl<T: Copy> Send for OwnedVm<T> {}
// SAFETY: owned heap memory; see `VmPtr`.
unsafe impl<T: Copy> Sync for OwnedVm<T> {}

impl<T: Copy> OwnedVm<T> {
    /// Allocates `value`.
    pub(crate) fn new(value: T) -> OwnedVm<T> {
        let ptr = NonNull::from(Box::leak(Box::new(value)));
        OwnedVm { ptr }
    }

    /// A pointer valid until `self` is dropped.
    pub(crate) fn vm_ptr(&self) -> VmPtr<T> {
        // SAFETY: the allocation lives until `self` drops, and the store drops its owned
        // records only after every user of the pointer is gone.
        unsafe { VmPtr::new(self.ptr) }
    }
}

impl<T: Copy> Drop for OwnedVm<T> {
    fn drop(&mut self) {
        // SAFETY: allocated by `Box` in `new` and not freed before.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

/// A host function's `VMHostFunc`, heap-allocated at a stable address.
#[derive(Debug)]
pub(crate) struct OwnedHostFunc {
    ptr: NonNull<VMHostFunc>,
}

// SAFETY: owned heap memory; the state pointer inside is owned by the same store.
unsafe impl Send for OwnedHostFunc {}
// SAFETY: as above.
unsafe impl Sync for OwnedHostFunc {}

impl OwnedHostFunc {
    /// Allocates a `VMHostFunc` and points its own funcref's vmctx at itself.
    pub(crate) fn new(
        type_id: u32,
        array_call: *const u8,
        state: *const (),
        body: *const (),
        store_id: u64,
    ) -> OwnedHostFunc {
        let ptr = NonNull::from(Box::leak(Box::new(VMHostFunc {
            magic: vmoffsets::VMHOSTFUNC_MAGIC,
            type_id,
            array_call,
            func_ref: VMFuncRef {
                array_call,
                wasm_call: std::ptr::null(),
                vmctx: std::ptr::null_mut(),
                type_id,
            },
            state,
            body,
            store_id,
        })));
        // SAFETY: just allocated; no other pointer to it exists yet.
        unsafe { (*ptr.as_ptr()).func_ref.vmctx = ptr.as_ptr().cast() };
        OwnedHostFunc { ptr }
    }

    /// Address of the `VMHostFunc`.
    #[cfg(test)]
    pub(crate) fn as_ptr(&self) -> *mut VMHostFunc {
        self.ptr.as_ptr()
    }

    /// The function's own funcref.
    pub(crate) fn func_ref(&self) -> VmPtr<VMFuncRef> {
        // SAFETY: `func_ref` is a field of the live allocation, which lives as long as
        // `self` (owned by the store).
        unsafe {
            VmPtr::new(NonNull::new_unchecked(
                &raw mut (*self.ptr.as_ptr()).func_ref,
            ))
        }
    }
}

impl Drop for OwnedHostFunc {
    fn drop(&mut self) {
        // SAFETY: allocated by `Box` in `new` and not freed before.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

/// One instance's `VMContext`: a zeroed, 16-byte aligned allocation of
/// `VMOffsets::size()` bytes.
#[derive(Debug)]
pub(crate) struct VmCtxAlloc {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: owned heap memory; see `VmPtr`.
unsafe impl Send for VmCtxAlloc {}
// SAFETY: owned heap memory; see `VmPtr`.
unsafe impl Sync for VmCtxAlloc {}

impl VmCtxAlloc {
    /// Allocates `size` zeroed bytes; `None` if `size` is zero-sized or too large.
    pub(crate) fn new(size: u32) -> Option<VmCtxAlloc> {
        let size = usize::try_from(size).ok()?.max(16);
        let layout = Layout::from_size_align(size, 16).ok()?;
        // SAFETY: the layout has a nonzero size.
        let ptr = NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })?;
        Some(VmCtxAlloc { ptr, layout })
    }

    /// The vmctx address.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// A pointer to the record of type `T` at `offset`.
    ///
    /// # Panics
    ///
    /// If the record does not fit in the allocation or is misaligned: offsets come from
    /// `VMOffsets` of the same counts the allocation was sized with, so that is a loader bug.
    pub(crate) fn at<T: Copy>(&self, offset: u32) -> VmPtr<T> {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        assert!(
            offset.saturating_add(size_of::<T>()) <= self.layout.size()
                && offset.is_multiple_of(align_of::<T>()),
            "vmctx record at {offset} out of bounds or misaligned"
        );
        // SAFETY: in bounds and aligned (checked above); the allocation lives as long as the
        // instance, which lives as long as its store.
        unsafe { VmPtr::new(NonNull::new_unchecked(self.ptr.as_ptr().add(offset).cast())) }
    }
}

impl Drop for VmCtxAlloc {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) };
    }
}

/// Reads a pointer-sized field of a vmctx (used by libcalls and host shims, which only get
/// the raw vmctx).
///
/// # Safety
///
/// `vmctx` must be a live `VMContext` and `offset` one of its pointer-sized prefix fields.
pub(crate) unsafe fn vmctx_word(vmctx: *const u8, offset: u32) -> usize {
    // SAFETY: forwarded to the caller; prefix fields are 8-byte aligned.
    unsafe { vmctx.add(offset as usize).cast::<usize>().read() }
}

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use super::*;
    use wasmc_abi::vmoffsets::{
        func_ref, global_def, global_import, host_func, import_ref, memory_def, store_ctx,
        table_def,
    };

    fn off(o: usize) -> u32 {
        u32::try_from(o).unwrap()
    }

    #[test]
    fn records_match_the_abi() {
        assert_eq!(off(offset_of!(VMFuncRef, array_call)), func_ref::ARRAY_CALL);
        assert_eq!(off(offset_of!(VMFuncRef, wasm_call)), func_ref::WASM_CALL);
        assert_eq!(off(offset_of!(VMFuncRef, vmctx)), func_ref::VMCTX);
        assert_eq!(off(offset_of!(VMFuncRef, type_id)), func_ref::TYPE_ID);
        assert_eq!(off(size_of::<VMFuncRef>()), func_ref::SIZE);

        assert_eq!(off(offset_of!(VMMemoryDefinition, base)), memory_def::BASE);
        assert_eq!(
            off(offset_of!(VMMemoryDefinition, current_length)),
            memory_def::CURRENT_LENGTH
        );
        assert_eq!(off(size_of::<VMMemoryDefinition>()), memory_def::SIZE);

        assert_eq!(off(offset_of!(VMMemoryImport, from)), import_ref::FROM);
        assert_eq!(off(offset_of!(VMMemoryImport, vmctx)), import_ref::VMCTX);
        assert_eq!(off(size_of::<VMMemoryImport>()), import_ref::SIZE);
        assert_eq!(off(offset_of!(VMTableImport, from)), import_ref::FROM);
        assert_eq!(off(offset_of!(VMTableImport, vmctx)), import_ref::VMCTX);
        assert_eq!(off(size_of::<VMTableImport>()), import_ref::SIZE);

        assert_eq!(off(offset_of!(VMTableDefinition, base)), table_def::BASE);
        assert_eq!(
            off(offset_of!(VMTableDefinition, current_elements)),
            table_def::CURRENT_ELEMENTS
        );
        assert_eq!(off(size_of::<VMTableDefinition>()), table_def::SIZE);
        assert_eq!(off(size_of::<usize>()), table_def::ELEMENT_SIZE);

        assert_eq!(off(offset_of!(VMGlobalImport, from)), global_import::FROM);
        assert_eq!(off(size_of::<VMGlobalImport>()), global_import::SIZE);
        assert_eq!(off(size_of::<VMGlobalDefinition>()), global_def::SIZE);
        assert_eq!(off(align_of::<VMGlobalDefinition>()), global_def::ALIGN);

        assert_eq!(off(offset_of!(VMHostFunc, magic)), host_func::MAGIC);
        assert_eq!(off(offset_of!(VMHostFunc, type_id)), host_func::TYPE_ID);
        assert_eq!(
            off(offset_of!(VMHostFunc, array_call)),
            host_func::ARRAY_CALL
        );

        assert_eq!(
            off(offset_of!(VMStoreContext, stack_limit)),
            store_ctx::STACK_LIMIT
        );
        assert_eq!(
            off(offset_of!(VMStoreContext, fuel_consumed)),
            store_ctx::FUEL_CONSUMED
        );
        assert_eq!(
            off(offset_of!(VMStoreContext, interrupt)),
            store_ctx::INTERRUPT
        );
        assert_eq!(
            off(offset_of!(VMStoreContext, last_entry_fp)),
            store_ctx::LAST_ENTRY_FP
        );
        assert_eq!(
            off(offset_of!(VMStoreContext, last_entry_sp)),
            store_ctx::LAST_ENTRY_SP
        );
        assert_eq!(
            off(offset_of!(VMStoreContext, last_entry_handler)),
            store_ctx::LAST_ENTRY_HANDLER
        );
        assert_eq!(
            off(offset_of!(VMStoreContext, last_exit_fp)),
            store_ctx::LAST_EXIT_FP
        );
        assert_eq!(
            off(offset_of!(VMStoreContext, last_exit_pc)),
            store_ctx::LAST_EXIT_PC
        );
        assert!(off(offset_of!(VMStoreContext, store)) >= store_ctx::SIZE);
    }

    #[test]
    fn vmctx_alloc_is_aligned_and_bounds_checked() {
        let a = VmCtxAlloc::new(64).unwrap();
        assert_eq!(a.as_ptr() as usize % 16, 0);
        let p = a.at::<u32>(0);
        p.write(vmoffsets::VMCTX_MAGIC);
        assert_eq!(p.read(), vmoffsets::VMCTX_MAGIC);
        assert!(std::panic::catch_unwind(|| a.at::<usize>(60)).is_err());
    }

    #[test]
    fn host_func_points_at_itself() {
        let h = OwnedHostFunc::new(3, std::ptr::null(), std::ptr::null(), std::ptr::null(), 1);
        assert_eq!(h.func_ref().read().vmctx, h.as_ptr().cast());
        assert_eq!(h.func_ref().read().type_id, 3);
    }
}
