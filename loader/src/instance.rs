//! [`Instance`] and instantiation (`docs/ARCHITECTURE.md` §7).
//!
//! 1. allocate the vmctx and fill its prefix;
//! 2. type-check the imports and write their records;
//! 3. create defined memories and tables, fill `func_refs`, evaluate global initialisers;
//! 4. apply active element segments, then active data segments, in module order, each
//!    bounds-checked (a failure is a trap; earlier effects stay, as the spec says), and drop
//!    active and declared segments;
//! 5. run the start function.
//!
//! The instance is added to the store before step 2, and stays there even if a later step
//! fails: element segments may already have written its funcrefs into imported tables.

use wasmc_abi::TrapCode;
use wasmc_abi::metadata::{
    self, ConstExpr, ConstOp, ElemItems, ExternKind, ImportKind, MemoryType, SegmentMode, TableType,
};
use wasmc_abi::vmoffsets::{self, VMOffsets};

use crate::artifact::Artifact;
use crate::error::Error;
use crate::func::Func;
use crate::global::{Global, def_to_raw, raw_to_def};
use crate::memory::{Memory, new_memory_data};
use crate::store::{FuncData, FuncKind, GlobalData, Store};
use crate::table::{Table, new_table_data};
use crate::val::{raw_u32, raw_u64, raw_usize};
use crate::vmctx::{VMFuncRef, VMGlobalImport, VMMemoryImport, VMTableImport, VmCtxAlloc};

/// Something an instance imports or exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
    /// A global.
    Global(Global),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self {
            Some(f)
        } else {
            None
        }
    }
    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self {
            Some(t)
        } else {
            None
        }
    }
    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self {
            Some(m)
        } else {
            None
        }
    }
    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self {
            Some(g)
        } else {
            None
        }
    }
    fn kind(&self) -> ExternKind {
        match self {
            Extern::Func(_) => ExternKind::Func,
            Extern::Table(_) => ExternKind::Table,
            Extern::Memory(_) => ExternKind::Memory,
            Extern::Global(_) => ExternKind::Global,
        }
    }
    fn store_id(&self) -> u64 {
        match self {
            Extern::Func(f) => f.store_id,
            Extern::Table(t) => t.store_id,
            Extern::Memory(m) => m.store_id,
            Extern::Global(g) => g.store_id,
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

/// An instance of an artifact in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

/// The store's record of an instance.
pub(crate) struct InstanceData {
    pub(crate) artifact: Artifact,
    pub(crate) vmctx: VmCtxAlloc,
    /// Store function index of each function index (imported, or escaped defined ones).
    pub(crate) funcs: Vec<Option<usize>>,
    /// Store memory index of each memory index.
    pub(crate) memories: Vec<usize>,
    pub(crate) tables: Vec<usize>,
    pub(crate) globals: Vec<usize>,
    /// Items (raw element bits) of each element segment; empty once dropped.
    pub(crate) elems: Vec<Vec<usize>>,
    /// Whether each data segment was dropped.
    pub(crate) dropped_datas: Vec<bool>,
    /// Where the instance is in the reactor lifecycle.
    pub(crate) init: InitState,
}

/// The reactor lifecycle of an instance (`_initialize` runs once before other exports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InitState {
    /// Not a reactor (no exported `_initialize`), or already initialised.
    Ready,
    /// A reactor whose `_initialize` (this store function) has not completed yet.
    Pending(usize),
}

/// The export name of a reactor's initialisation function (WASI reactor ABI).
pub const INITIALIZE_EXPORT: &str = "_initialize";

impl InstanceData {
    /// The bytes of data segment `i` (empty once dropped).
    pub(crate) fn data_segment(&self, i: usize) -> Option<&[u8]> {
        let d = self.artifact.inner.meta.datas.get(i)?;
        if *self.dropped_datas.get(i)? {
            return Some(&[]);
        }
        let start = d.data_off as usize;
        // Checked against the section size at load time.
        self.artifact
            .inner
            .data
            .bytes()
            .get(start..start + d.data_len as usize)
    }
}

pub(crate) fn describe_import(kind: &ImportKind, types: &[wasmc_abi::FuncType]) -> String {
    match kind {
        ImportKind::Func(t) => format!(
            "function {}",
            types
                .get(*t as usize)
                .map_or_else(|| "?".to_string(), ToString::to_string)
        ),
        ImportKind::Table(t) => describe_table(t),
        ImportKind::Memory(m) => describe_memory(m),
        ImportKind::Global(g) => describe_global(g),
    }
}

fn limits(min: u64, max: Option<u64>) -> String {
    match max {
        Some(m) => format!("{min} {m}"),
        None => format!("{min}"),
    }
}

fn describe_table(t: &TableType) -> String {
    format!("table {} {}", limits(t.min, t.max), t.element)
}

fn describe_memory(m: &MemoryType) -> String {
    format!("memory {}", limits(m.min, m.max))
}

fn describe_global(g: &metadata::GlobalType) -> String {
    if g.mutable {
        format!("global (mut {})", g.ty)
    } else {
        format!("global {}", g.ty)
    }
}

fn describe_extern<T>(store: &Store<T>, e: &Extern) -> String {
    match e {
        Extern::Func(f) => format!("function {}", f.ty(store)),
        Extern::Table(t) => describe_table(&t.ty(store)),
        Extern::Memory(m) => describe_memory(&m.ty(store)),
        Extern::Global(g) => describe_global(&g.ty(store)),
    }
}

/// `actual` limits match `expected` (import) limits: at least the minimum, and a maximum at
/// most the expected one when one is expected.
fn limits_match(min: u64, max: Option<u64>, exp_min: u64, exp_max: Option<u64>) -> bool {
    min >= exp_min
        && match exp_max {
            None => true,
            Some(em) => max.is_some_and(|m| m <= em),
        }
}

fn check_import<T>(
    store: &Store<T>,
    artifact: &Artifact,
    import: &metadata::Import,
    ext: &Extern,
    renamed: Option<&(String, String)>,
) -> Result<(), Error> {
    let meta = &artifact.inner.meta;
    let as_what = renamed
        .map(|(m, n)| format!(" (renamed to `{m}::{n}`)"))
        .unwrap_or_default();
    let mismatch = || {
        Error::link(
            &import.module,
            &import.name,
            format!(
                "incompatible import type for `{}::{}`{as_what}: expected {}, found {}",
                import.module,
                import.name,
                describe_import(&import.kind, &meta.types),
                describe_extern(store, ext)
            ),
        )
    };
    if ext.store_id() != store.opaque.id {
        return Err(Error::link(
            &import.module,
            &import.name,
            format!(
                "import `{}::{}`{as_what} is defined in another store",
                import.module, import.name
            ),
        ));
    }
    if ext.kind() != import.kind.kind() {
        return Err(mismatch());
    }
    let ok = match (&import.kind, ext) {
        (ImportKind::Func(t), Extern::Func(f)) => {
            store.opaque.funcs[f.index].func_ref.read().type_id
                == artifact.inner.type_ids[*t as usize]
        }
        (ImportKind::Table(want), Extern::Table(t)) => {
            let have = t.ty(store);
            have.element == want.element
                && have.idx64 == want.idx64
                && limits_match(have.min, have.max, want.min, want.max)
        }
        (ImportKind::Memory(want), Extern::Memory(m)) => {
            let have = m.ty(store);
            have.idx64 == want.idx64
                && have.shared == want.shared
                && have.page_size_log2 == want.page_size_log2
                && limits_match(have.min, have.max, want.min, want.max)
        }
        (ImportKind::Global(want), Extern::Global(g)) => g.ty(store) == *want,
        _ => false,
    };
    if ok { Ok(()) } else { Err(mismatch()) }
}

impl Instance {
    /// Instantiates `artifact` in `store` with `imports` given in the module's import order
    /// (the [`crate::Linker`] resolves them by name).
    ///
    /// # Errors
    ///
    /// A link error naming the import if one is missing or has the wrong type (before any
    /// code runs); an instantiation error for unsupported features or exhausted resources;
    /// a trap if a segment is out of bounds or the start function traps.
    ///
    /// A reactor's `_initialize` is *not* run: call [`Instance::initialize_reactor`] before
    /// any other export (until then, calling them is a usage error).
    pub fn new<T: 'static>(
        store: &mut Store<T>,
        artifact: &Artifact,
        imports: &[Extern],
    ) -> Result<Instance, Error> {
        Instance::new_resolved(store, artifact, imports, &[])
    }

    /// [`Instance::new`] with, for each import, the name the linker looked it up as when it
    /// was renamed (for error messages); `renamed` may be empty.
    pub(crate) fn new_resolved<T: 'static>(
        store: &mut Store<T>,
        artifact: &Artifact,
        imports: &[Extern],
        renamed: &[Option<(String, String)>],
    ) -> Result<Instance, Error> {
        let meta = &artifact.inner.meta;
        if imports.len() != meta.imports.len() {
            return Err(Error::usage(format!(
                "the module has {} imports but {} were given",
                meta.imports.len(),
                imports.len()
            )));
        }
        for (i, (imp, ext)) in meta.imports.iter().zip(imports).enumerate() {
            let name = renamed.get(i).and_then(Option::as_ref);
            check_import(store, artifact, imp, ext, name)?;
        }
        for (i, imp) in meta.imports.iter().enumerate() {
            if let (ImportKind::Func(t), Extern::Func(f)) = (&imp.kind, &imports[i])
                && matches!(store.opaque.funcs[f.index].kind, FuncKind::Host(_))
                && meta.host_trampolines.get(*t as usize) == Some(&metadata::NONE)
            {
                return Err(Error::instantiate(format!(
                    "the artifact has no wasm-to-host trampoline for the type of import `{}::{}`",
                    imp.module, imp.name
                )));
            }
        }
        // Resource limits and the instance budget, before anything is allocated.
        store.check_instantiation(artifact)?;
        let index = allocate(store, artifact).inspect_err(|_| store.uncharge_instance())?;
        let instance = Instance {
            store_id: store.opaque.id,
            index,
        };
        initialize(store, index, imports)?;
        if let Some(start) = meta.start {
            let f = store.opaque.instances[index].funcs[start as usize].ok_or_else(|| {
                Error::instantiate("the start function has no function reference")
            })?;
            Func {
                store_id: store.opaque.id,
                index: f,
            }
            .call(store, &[], &mut [])?;
        }
        // A reactor: its other exports wait for `_initialize`.
        if let Some(Extern::Func(f)) = instance.get_export(store, INITIALIZE_EXPORT) {
            store.opaque.instances[index].init = InitState::Pending(f.index);
            store.opaque.pending_reactors += 1;
        }
        Ok(instance)
    }

    /// Whether this is a reactor (it exports `_initialize`) whose `_initialize` has not
    /// completed yet.
    ///
    /// # Panics
    ///
    /// If the instance belongs to another store.
    pub fn needs_initialize<T>(&self, store: &Store<T>) -> bool {
        matches!(self.rec(store).init, InitState::Pending(_))
    }

    /// Runs a reactor's `_initialize` export once (the WASI reactor lifecycle, Go's
    /// `go:wasmexport` model: initialise once, then call exports many times on the live
    /// instance). [`crate::Linker::instantiate`] calls this itself; [`Instance::new`] and
    /// [`crate::Linker::instantiate_uninitialized`] leave it to the host. Until it has
    /// succeeded, calling any other export of the instance from the host is a usage error.
    ///
    /// # Errors
    ///
    /// A usage error if the instance is not a reactor or was already initialised; whatever
    /// `_initialize` fails with (the instance then stays uninitialised).
    pub fn initialize_reactor<T: 'static>(&self, store: &mut Store<T>) -> Result<(), Error> {
        store.opaque.check(self.store_id, "instance")?;
        let InitState::Pending(f) = store.opaque.instances[self.index].init else {
            return Err(Error::usage(
                if self.get_export(store, INITIALIZE_EXPORT).is_some() {
                    "the reactor is already initialised: `_initialize` runs only once"
                } else {
                    "the instance is not a reactor: it exports no `_initialize` function"
                },
            ));
        };
        Func {
            store_id: self.store_id,
            index: f,
        }
        .call(store, &[], &mut [])
    }

    fn rec<'s, T>(&self, store: &'s Store<T>) -> &'s InstanceData {
        store.opaque.assert_owns(self.store_id, "instance");
        &store.opaque.instances[self.index]
    }

    /// The export called `name`.
    ///
    /// # Panics
    ///
    /// If the instance belongs to another store (as every accessor of an instance).
    pub fn get_export<T>(&self, store: &Store<T>, name: &str) -> Option<Extern> {
        let data = self.rec(store);
        let e = data
            .artifact
            .inner
            .meta
            .exports
            .iter()
            .find(|e| e.name == name)?;
        self.extern_of(store, e.kind, e.index)
    }

    fn extern_of<T>(&self, store: &Store<T>, kind: ExternKind, index: u32) -> Option<Extern> {
        let data = self.rec(store);
        let id = store.opaque.id;
        let i = index as usize;
        Some(match kind {
            ExternKind::Func => Extern::Func(Func {
                store_id: id,
                index: (*data.funcs.get(i)?)?,
            }),
            ExternKind::Table => Extern::Table(Table {
                store_id: id,
                index: *data.tables.get(i)?,
            }),
            ExternKind::Memory => Extern::Memory(Memory {
                store_id: id,
                index: *data.memories.get(i)?,
            }),
            ExternKind::Global => Extern::Global(Global {
                store_id: id,
                index: *data.globals.get(i)?,
            }),
        })
    }

    /// All exports, in module order.
    pub fn exports<T>(&self, store: &Store<T>) -> Vec<(String, Extern)> {
        let data = self.rec(store);
        data.artifact
            .inner
            .meta
            .exports
            .iter()
            .filter_map(|e| Some((e.name.clone(), self.extern_of(store, e.kind, e.index)?)))
            .collect()
    }

    /// The exported function called `name`.
    pub fn get_func<T>(&self, store: &Store<T>, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported memory called `name`.
    pub fn get_memory<T>(&self, store: &Store<T>, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table called `name`.
    pub fn get_table<T>(&self, store: &Store<T>, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global called `name`.
    pub fn get_global<T>(&self, store: &Store<T>, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The exported function called `name`, typed.
    ///
    /// # Errors
    ///
    /// A usage error if there is no such exported function or its type is not `P -> R`.
    pub fn get_typed_func<P: crate::WasmParams, R: crate::WasmResults>(
        &self,
        store: &Store<impl Sized>,
        name: &str,
    ) -> Result<crate::TypedFunc<P, R>, Error> {
        let f = self
            .get_func(store, name)
            .ok_or_else(|| Error::usage(format!("no exported function named `{name}`")))?;
        f.typed(store)
    }
}

/// Steps 1 (vmctx) of instantiation: adds the instance to the store and returns its index.
fn allocate<T>(store: &mut Store<T>, artifact: &Artifact) -> Result<usize, Error> {
    let meta = &artifact.inner.meta;
    let offsets = VMOffsets::new(meta.vmoffsets_counts());
    if offsets.size() == u32::MAX {
        return Err(Error::instantiate("the module's vmctx would be too large"));
    }
    let vmctx = VmCtxAlloc::new(offsets.size())
        .ok_or_else(|| Error::instantiate("cannot allocate the vmctx"))?;
    store.opaque.register_artifact(artifact);
    let index = store.opaque.instances.len();
    let ctx = store.opaque.ctx_ptr();
    vmctx
        .at::<u32>(vmoffsets::vmctx::MAGIC)
        .write(vmoffsets::VMCTX_MAGIC);
    vmctx
        .at::<usize>(vmoffsets::vmctx::STORE_CTX)
        .write(ctx as usize);
    vmctx
        .at::<usize>(vmoffsets::vmctx::BUILTINS)
        .write(crate::libcalls::builtins_table());
    vmctx
        .at::<usize>(vmoffsets::vmctx::EPOCH_PTR)
        .write(crate::epoch_ptr());
    vmctx
        .at::<usize>(vmoffsets::vmctx::TYPE_IDS)
        .write(artifact.inner.type_ids.as_ptr() as usize);
    vmctx.at::<usize>(vmoffsets::vmctx::INSTANCE).write(index);
    store.opaque.instances.push(InstanceData {
        artifact: artifact.clone(),
        vmctx,
        funcs: vec![None; meta.functions.len()],
        memories: Vec::with_capacity(meta.memories.len()),
        tables: Vec::with_capacity(meta.tables.len()),
        globals: Vec::with_capacity(meta.globals.len()),
        elems: Vec::new(),
        dropped_datas: vec![false; meta.datas.len()],
        init: InitState::Ready,
    });
    Ok(index)
}

/// Steps 2-4 of instantiation.
fn initialize<T>(store: &mut Store<T>, index: usize, imports: &[Extern]) -> Result<(), Error> {
    let artifact = store.opaque.instances[index].artifact.clone();
    let a = &artifact.inner;
    let meta = &a.meta;
    let offsets = VMOffsets::new(meta.vmoffsets_counts());
    let vmctx_ptr = store.opaque.instances[index].vmctx.as_ptr();

    // Imports.
    let (mut nf, mut nt, mut nm, mut ng) = (0u32, 0u32, 0u32, 0u32);
    for (i, ext) in imports.iter().enumerate() {
        match ext {
            Extern::Func(f) => {
                let slot_off = offsets.imported_function(nf);
                let fd = &store.opaque.funcs[f.index];
                let mut fr = fd.func_ref.read();
                if let FuncKind::Host(_) = fd.kind {
                    let ImportKind::Func(t) = meta.imports[i].kind else {
                        unreachable!("checked by check_import")
                    };
                    let tramp = a.text_addr(meta.host_trampolines[t as usize]);
                    fr.wasm_call = tramp;
                    // The host function's own funcref becomes callable from Wasm too.
                    if fd.func_ref.read().wasm_call.is_null() {
                        let mut own = fd.func_ref.read();
                        own.wasm_call = tramp;
                        fd.func_ref.write(own);
                    }
                }
                let slot = store.opaque.instances[index]
                    .vmctx
                    .at::<VMFuncRef>(slot_off);
                slot.write(fr);
                store
                    .opaque
                    .func_by_ref
                    .insert(slot.as_ptr() as usize, f.index);
                store.opaque.instances[index].funcs[nf as usize] = Some(f.index);
                nf += 1;
            }
            Extern::Table(t) => {
                let td = &store.opaque.tables[t.index];
                let rec = VMTableImport {
                    from: td.def.as_ptr(),
                    vmctx: td.vmctx as *mut u8,
                };
                store.opaque.instances[index]
                    .vmctx
                    .at::<VMTableImport>(offsets.imported_table(nt))
                    .write(rec);
                store.opaque.instances[index].tables.push(t.index);
                nt += 1;
            }
            Extern::Memory(m) => {
                let md = &store.opaque.memories[m.index];
                let rec = VMMemoryImport {
                    from: md.def.as_ptr(),
                    vmctx: md.vmctx as *mut u8,
                };
                store.opaque.instances[index]
                    .vmctx
                    .at::<VMMemoryImport>(offsets.imported_memory(nm))
                    .write(rec);
                store.opaque.instances[index].memories.push(m.index);
                nm += 1;
            }
            Extern::Global(g) => {
                let rec = VMGlobalImport {
                    from: store.opaque.globals[g.index].def.as_ptr(),
                };
                store.opaque.instances[index]
                    .vmctx
                    .at::<VMGlobalImport>(offsets.imported_global(ng))
                    .write(rec);
                store.opaque.instances[index].globals.push(g.index);
                ng += 1;
            }
        }
    }

    // Defined memories.
    for (i, ty) in meta.memories.iter().enumerate().skip(nm as usize) {
        let d = u32::try_from(i).unwrap_or(u32::MAX) - nm;
        let def = store.opaque.instances[index]
            .vmctx
            .at(offsets.defined_memory(d));
        let m = new_memory_data(*ty, Some((def, vmctx_ptr as usize)))?;
        store.opaque.memories.push(m);
        let id = store.opaque.memories.len() - 1;
        store.opaque.instances[index].memories.push(id);
    }

    // Defined tables, elements null.
    for (i, ty) in meta.tables.iter().enumerate().skip(nt as usize) {
        let d = u32::try_from(i).unwrap_or(u32::MAX) - nt;
        let def = store.opaque.instances[index]
            .vmctx
            .at(offsets.defined_table(d));
        let t = new_table_data(*ty, 0, Some((def, vmctx_ptr as usize)))?;
        store.opaque.tables.push(t);
        let id = store.opaque.tables.len() - 1;
        store.opaque.instances[index].tables.push(id);
    }

    // Funcrefs of escaped defined functions.
    for (slot, &f) in meta.escaped_funcs.iter().enumerate() {
        let def = &meta.defined_funcs[(f - nf) as usize];
        let ty_index = meta.functions[f as usize] as usize;
        let fr = VMFuncRef {
            array_call: a.text_addr(def.entry_off),
            wasm_call: a.text_addr(def.text_off),
            vmctx: vmctx_ptr,
            type_id: a.type_ids[ty_index],
        };
        let p = store.opaque.instances[index]
            .vmctx
            .at::<VMFuncRef>(offsets.func_ref(u32::try_from(slot).unwrap_or(u32::MAX)));
        p.write(fr);
        let id = store.opaque.push_func(FuncData {
            func_ref: p,
            ty: meta.types[ty_index].clone(),
            kind: FuncKind::Wasm(index),
        });
        store.opaque.instances[index].funcs[f as usize] = Some(id);
    }

    // Defined globals, in order (an initialiser may read earlier globals).
    for (i, init) in meta.global_inits.iter().enumerate() {
        let g = ng as usize + i;
        let raw = eval_const(store, index, &offsets, init)?;
        let def = store.opaque.instances[index]
            .vmctx
            .at(offsets.defined_global(u32::try_from(i).unwrap_or(u32::MAX)));
        def.write(raw_to_def(raw));
        store.opaque.globals.push(GlobalData {
            ty: meta.globals[g],
            def,
            _owned: None,
        });
        let id = store.opaque.globals.len() - 1;
        store.opaque.instances[index].globals.push(id);
    }

    // Element segment items.
    let mut elems = Vec::with_capacity(meta.elems.len());
    for seg in &meta.elems {
        let items = match &seg.items {
            ElemItems::Functions(fs) => fs
                .iter()
                .map(|&f| func_ref_addr(store, index, &offsets, f))
                .collect::<Result<Vec<_>, _>>()?,
            ElemItems::Exprs(es) => es
                .iter()
                .map(|e| eval_const(store, index, &offsets, e).map(raw_usize))
                .collect::<Result<Vec<_>, _>>()?,
        };
        elems.push(items);
    }
    store.opaque.instances[index].elems = elems;

    // Active element segments, then data segments, in order.
    for (i, seg) in meta.elems.iter().enumerate() {
        match &seg.mode {
            SegmentMode::Active {
                index: table,
                offset,
            } => {
                let off = raw_u32(eval_const(store, index, &offsets, offset)?) as usize;
                let tid = store.opaque.instances[index].tables[*table as usize];
                let items = std::mem::take(&mut store.opaque.instances[index].elems[i]);
                let t = &mut store.opaque.tables[tid];
                let dst = off
                    .checked_add(items.len())
                    .and_then(|end| t.elements.get_mut(off..end))
                    .ok_or_else(|| Error::trap(TrapCode::TableOutOfBounds))?;
                dst.copy_from_slice(&items);
            }
            SegmentMode::Declared => {
                store.opaque.instances[index].elems[i].clear();
            }
            SegmentMode::Passive => {}
        }
    }
    for (i, seg) in meta.datas.iter().enumerate() {
        if let SegmentMode::Active { index: mem, offset } = &seg.mode {
            // A 64-bit memory's offset is an `i64`; a 32-bit one's is zero-extended.
            let raw = raw_u64(eval_const(store, index, &offsets, offset)?);
            let off = usize::try_from(raw).unwrap_or(usize::MAX);
            let mid = store.opaque.instances[index].memories[*mem as usize];
            let start = seg.data_off as usize;
            let bytes = &a.data.bytes()[start..start + seg.data_len as usize];
            // Pages of a memory this instance defines (still untouched by anyone else) may come
            // straight from the artifact file; an imported memory is always copied into.
            let file = a
                .data
                .file()
                .filter(|_| *mem >= meta.num_imported_memories())
                .map(|(f, sec_off)| (f, sec_off + u64::from(seg.data_off)));
            crate::memory::init_data(&mut store.opaque.memories[mid], off, bytes, file)?;
            store.opaque.instances[index].dropped_datas[i] = true;
        }
    }
    Ok(())
}

/// The funcref address of function `f` of instance `index`.
fn func_ref_addr<T>(
    store: &Store<T>,
    index: usize,
    offsets: &VMOffsets,
    f: u32,
) -> Result<usize, Error> {
    let inst = &store.opaque.instances[index];
    let meta = &inst.artifact.inner.meta;
    let nf = meta.num_imported_funcs();
    let off = if f < nf {
        offsets.imported_function(f)
    } else {
        let def = &meta.defined_funcs[(f - nf) as usize];
        if def.func_ref_slot == metadata::NONE {
            return Err(Error::instantiate(format!(
                "function {f} is referenced but has no function reference slot"
            )));
        }
        offsets.func_ref(def.func_ref_slot)
    };
    Ok(inst.vmctx.at::<VMFuncRef>(off).as_ptr() as usize)
}

/// Evaluates a constant expression to its raw 16-byte value.
fn eval_const<T>(
    store: &Store<T>,
    index: usize,
    offsets: &VMOffsets,
    expr: &ConstExpr,
) -> Result<u128, Error> {
    let bad = || Error::instantiate("malformed constant expression in the metadata");
    let mut stack: Vec<u128> = Vec::with_capacity(4);
    for op in &expr.ops {
        let v = match *op {
            ConstOp::I32Const(v) => u128::from(v as u32),
            ConstOp::I64Const(v) => u128::from(v as u64),
            ConstOp::F32Const(v) => u128::from(v),
            ConstOp::F64Const(v) => u128::from(v),
            ConstOp::V128Const(v) => v,
            ConstOp::RefNull(_) => 0,
            ConstOp::RefFunc(f) => func_ref_addr(store, index, offsets, f)? as u128,
            ConstOp::GlobalGet(g) => {
                let gid = *store.opaque.instances[index]
                    .globals
                    .get(g as usize)
                    .ok_or_else(bad)?;
                def_to_raw(store.opaque.globals[gid].def.read())
            }
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = raw_u32(stack.pop().ok_or_else(bad)?);
                let a = raw_u32(stack.pop().ok_or_else(bad)?);
                u128::from(match *op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = raw_u64(stack.pop().ok_or_else(bad)?);
                let a = raw_u64(stack.pop().ok_or_else(bad)?);
                u128::from(match *op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
        };
        stack.push(v);
    }
    if stack.len() != 1 {
        return Err(bad());
    }
    Ok(stack[0])
}
