//! One pass over a Wasm module with `wasmparser::Validator`, building [`ModuleInfo`]: the
//! compile-time model of the module (its types, imports, functions, tables, memories,
//! globals, exports, segments and names) plus the function bodies still to translate.
//!
//! Module-level validation happens here; each function body is validated operator by
//! operator while it is translated (`translate::translate_function`), so an invalid body
//! yields `CompileError::Invalid` with the offending offset. The loader's view of the same
//! facts is `abi::ModuleMetadata`, built from this by `artifact.rs`.
//!
//! [`WasmFeature`] lives here too: the proposals a compilation can switch on or off, which
//! decide the validator's feature set.

use std::collections::BTreeSet;

use wasmc_abi::metadata::{
    ConstExpr, ConstOp, DataSegment, ElemItems, ElemSegment, Export, ExternKind, GlobalType,
    Import, ImportKind, MemoryType, NONE, SegmentMode, TableType,
};
use wasmc_abi::{FuncType, VMOffsets, VMOffsetsCounts, ValType};
use wasmparser::{
    ElementItems, ElementKind, ExternalKind, FuncToValidate, FunctionBody, KnownCustom, Name,
    Operator, Parser, Payload, TypeRef, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

use crate::CompileError;

/// A WebAssembly proposal beyond the 2.0 scalar core (SIMD included) that a [`crate::CompileOptions`] can
/// switch on or off. A module using a switched-off proposal is refused by the validator with
/// [`crate::CompileError::Invalid`], whose message names the proposal (for example "SIMD
/// support is not enabled"); proposals wasmc does not implement at all (exceptions, GC,
/// threads, ...) are always off and are refused the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WasmFeature {
    /// 128-bit SIMD (`v128`), part of Wasm 2.0.
    Simd,
    /// Relaxed SIMD; needs `Simd`. wasmc's choices are deterministic (see `translate/simd.rs`).
    RelaxedSimd,
    /// `return_call` and `return_call_indirect`.
    TailCall,
    /// `i32/i64.add/sub/mul` in constant expressions.
    ExtendedConst,
    /// More than one memory per module.
    MultiMemory,
    /// Memories indexed by `i64`.
    Memory64,
}

impl WasmFeature {
    /// Every switchable proposal.
    pub const ALL: [WasmFeature; 6] = [
        WasmFeature::Simd,
        WasmFeature::RelaxedSimd,
        WasmFeature::TailCall,
        WasmFeature::ExtendedConst,
        WasmFeature::MultiMemory,
        WasmFeature::Memory64,
    ];

    /// The proposal's name as the spec repository spells it (`"relaxed-simd"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            WasmFeature::Simd => "simd",
            WasmFeature::RelaxedSimd => "relaxed-simd",
            WasmFeature::TailCall => "tail-call",
            WasmFeature::ExtendedConst => "extended-const",
            WasmFeature::MultiMemory => "multi-memory",
            WasmFeature::Memory64 => "memory64",
        }
    }

    /// The proposal named `name` (`-` and `_` are interchangeable, case is ignored).
    pub fn from_name(name: &str) -> Option<WasmFeature> {
        let want = name.to_ascii_lowercase().replace('_', "-");
        WasmFeature::ALL.into_iter().find(|f| f.name() == want)
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }

    fn wasmparser(self) -> WasmFeatures {
        match self {
            WasmFeature::Simd => WasmFeatures::SIMD,
            WasmFeature::RelaxedSimd => WasmFeatures::RELAXED_SIMD,
            WasmFeature::TailCall => WasmFeatures::TAIL_CALL,
            WasmFeature::ExtendedConst => WasmFeatures::EXTENDED_CONST,
            WasmFeature::MultiMemory => WasmFeatures::MULTI_MEMORY,
            WasmFeature::Memory64 => WasmFeatures::MEMORY64,
        }
    }
}

impl std::fmt::Display for WasmFeature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for WasmFeature {
    type Err = String;

    fn from_str(s: &str) -> Result<WasmFeature, String> {
        WasmFeature::from_name(s).ok_or_else(|| {
            let known: Vec<&str> = WasmFeature::ALL.iter().map(|f| f.name()).collect();
            format!("unknown Wasm feature `{s}` (known: {})", known.join(", "))
        })
    }
}

/// A set of [`WasmFeature`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FeatureSet(u32);

impl FeatureSet {
    /// Every proposal wasmc implements.
    pub(crate) fn all() -> FeatureSet {
        FeatureSet(WasmFeature::ALL.iter().fold(0, |acc, f| acc | f.bit()))
    }

    /// Whether `f` is on.
    pub(crate) fn has(self, f: WasmFeature) -> bool {
        self.0 & f.bit() != 0
    }

    /// Turns `f` on or off.
    pub(crate) fn set(&mut self, f: WasmFeature, enabled: bool) {
        if enabled {
            self.0 |= f.bit();
        } else {
            self.0 &= !f.bit();
        }
    }

    /// The validator's feature set: the Wasm 2.0 core plus the proposals that are on. Relaxed
    /// SIMD without SIMD is meaningless, so it is off then too.
    pub(crate) fn wasmparser(self) -> WasmFeatures {
        let mut w = WasmFeatures::WASM2.difference(WasmFeatures::SIMD);
        for f in WasmFeature::ALL {
            if self.has(f) {
                w |= f.wasmparser();
            }
        }
        if !self.has(WasmFeature::Simd) {
            w.remove(WasmFeatures::RELAXED_SIMD);
        }
        w
    }
}

impl Default for FeatureSet {
    fn default() -> FeatureSet {
        FeatureSet::all()
    }
}

/// A function body waiting to be translated, with the validator for it.
pub(crate) struct FunctionBodyInput<'a> {
    /// Validates the body's operators as they are translated.
    pub validator: FuncToValidate<ValidatorResources>,
    /// The body bytes.
    pub body: FunctionBody<'a>,
}

/// The compile-time model of a module.
pub(crate) struct ModuleInfo<'a> {
    /// Module name from the name section.
    pub name: Option<String>,
    /// Function types by type index.
    pub types: Vec<FuncType>,
    /// Imports in module order.
    pub imports: Vec<Import>,
    /// `(module, name)` of each imported function, by function index.
    pub imported_func_names: Vec<(String, String)>,
    /// Type index of every function, imported ones first.
    pub functions: Vec<u32>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Every table, imported ones first.
    pub tables: Vec<TableType>,
    /// Every memory, imported ones first.
    pub memories: Vec<MemoryType>,
    /// Every global, imported ones first.
    pub globals: Vec<GlobalType>,
    /// Initialiser of each defined global.
    pub global_inits: Vec<ConstExpr>,
    /// Exports.
    pub exports: Vec<Export>,
    /// Start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments (their bytes are in `data_bytes`).
    pub datas: Vec<DataSegment>,
    /// Bytes of every data segment, concatenated; `artifact.rs` lays out `.wasmc.data` from
    /// them (padding large segments so that the loader can map them).
    pub data_bytes: Vec<u8>,
    /// Bodies of the defined functions, in order.
    pub bodies: Vec<FunctionBodyInput<'a>>,
    /// Function names from the name section, sorted by index, unique.
    pub func_names: Vec<(u32, String)>,
    /// Function index of each `vmctx.func_refs` slot (defined functions only), ascending.
    pub escaped_funcs: Vec<u32>,
    /// Per defined function, its `func_refs` slot or [`NONE`].
    pub func_ref_slots: Vec<u32>,
    /// The vmctx layout of the module.
    pub offsets: VMOffsets,
    /// The module bytes (operator offsets index into them).
    pub wasm: &'a [u8],
    /// The proposals the module may use.
    pub features: FeatureSet,
}

impl ModuleInfo<'_> {
    /// The type index of function `func_index`.
    pub fn func_type_index(&self, func_index: u32) -> u32 {
        self.functions[func_index as usize]
    }

    /// The type of function `func_index`.
    pub fn func_type(&self, func_index: u32) -> &FuncType {
        &self.types[self.func_type_index(func_index) as usize]
    }

    /// Whether `func_index` is imported.
    pub fn is_imported_func(&self, func_index: u32) -> bool {
        func_index < self.num_imported_funcs
    }

    /// The `func_refs` slot of a defined function, if it escapes.
    pub fn func_ref_slot(&self, func_index: u32) -> Option<u32> {
        let defined = func_index.checked_sub(self.num_imported_funcs)?;
        let slot = *self.func_ref_slots.get(defined as usize)?;
        (slot != NONE).then_some(slot)
    }

    /// The name of a function from the name section.
    pub fn func_name(&self, func_index: u32) -> Option<&str> {
        self.func_names
            .binary_search_by_key(&func_index, |(i, _)| *i)
            .ok()
            .map(|i| self.func_names[i].1.as_str())
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn ref_type(rt: wasmparser::RefType, offset: u64) -> Result<ValType, CompileError> {
    if rt == wasmparser::RefType::FUNCREF {
        Ok(ValType::FuncRef)
    } else if rt == wasmparser::RefType::EXTERNREF {
        Ok(ValType::ExternRef)
    } else {
        Err(CompileError::unsupported(
            format!("reference type {rt} is not supported"),
            offset,
        ))
    }
}

/// Converts a value type; `v128` is kept (the caller decides whether it is allowed).
pub(crate) fn val_type(t: wasmparser::ValType, offset: u64) -> Result<ValType, CompileError> {
    Ok(match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(rt) => ref_type(rt, offset)?,
    })
}

fn heap_type_null(hty: wasmparser::HeapType, offset: u64) -> Result<ValType, CompileError> {
    use wasmparser::{AbstractHeapType, HeapType};
    match hty {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func,
        } => Ok(ValType::FuncRef),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern,
        } => Ok(ValType::ExternRef),
        other => Err(CompileError::unsupported(
            format!("ref.null of heap type {other:?} is not supported"),
            offset,
        )),
    }
}

/// Converts a (validated) constant expression.
fn const_expr(
    expr: &wasmparser::ConstExpr<'_>,
    escaped: &mut BTreeSet<u32>,
) -> Result<ConstExpr, CompileError> {
    let mut reader = expr.get_operators_reader();
    let mut ops = Vec::new();
    while !reader.eof() {
        let offset = reader.original_position();
        let op = match reader.read()? {
            Operator::End => break,
            Operator::I32Const { value } => ConstOp::I32Const(value),
            Operator::I64Const { value } => ConstOp::I64Const(value),
            Operator::F32Const { value } => ConstOp::F32Const(value.bits()),
            Operator::F64Const { value } => ConstOp::F64Const(value.bits()),
            Operator::V128Const { value } => {
                ConstOp::V128Const(u128::from_le_bytes(*value.bytes()))
            }
            Operator::RefNull { hty } => ConstOp::RefNull(heap_type_null(hty, offset)?),
            Operator::RefFunc { function_index } => {
                escaped.insert(function_index);
                ConstOp::RefFunc(function_index)
            }
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            other => {
                return Err(CompileError::unsupported(
                    format!("constant expression operator {other:?} is not supported"),
                    offset,
                ));
            }
        };
        ops.push(op);
    }
    Ok(ConstExpr { ops })
}

fn table_type(t: &wasmparser::TableType, offset: u64) -> Result<TableType, CompileError> {
    Ok(TableType {
        element: ref_type(t.element_type, offset)?,
        min: t.initial,
        max: t.maximum,
        idx64: t.table64,
    })
}

fn memory_type(m: &wasmparser::MemoryType) -> MemoryType {
    MemoryType {
        min: m.initial,
        max: m.maximum,
        idx64: m.memory64,
        shared: m.shared,
        page_size_log2: m
            .page_size_log2
            .and_then(|p| u8::try_from(p).ok())
            .unwrap_or(16),
    }
}

fn global_type(g: &wasmparser::GlobalType, offset: u64) -> Result<GlobalType, CompileError> {
    let ty = val_type(g.content_type, offset)?;
    Ok(GlobalType {
        ty,
        mutable: g.mutable,
    })
}

/// Wasm 2.0 encodes memory limits as `u32`s, but wasmparser reads them as `u64`s (for
/// memory64) and so accepts a 6-byte encoding the spec calls malformed ("integer
/// representation too long"). Re-read the limits strictly.
fn check_memory_limits(wasm: &[u8], range: std::ops::Range<u64>) -> Result<(), CompileError> {
    let (Ok(start), Ok(end)) = (usize::try_from(range.start), usize::try_from(range.end)) else {
        return Ok(());
    };
    let Some(bytes) = wasm.get(start..end) else {
        return Ok(());
    };
    let mut r = wasmparser::BinaryReader::new(bytes, range.start);
    let count = r.read_var_u32()?;
    for _ in 0..count {
        let flags = r.read_u8()?;
        if flags & !0b11 != 0 {
            // Other flags (memory64, custom page sizes) are left to the validator.
            return Ok(());
        }
        r.read_var_u32()?;
        if flags & 1 != 0 {
            r.read_var_u32()?;
        }
    }
    Ok(())
}

/// Validates `wasm` at the module level and builds its [`ModuleInfo`].
pub(crate) fn translate_module(
    wasm: &[u8],
    features: FeatureSet,
) -> Result<ModuleInfo<'_>, CompileError> {
    translate_module_inner(wasm, features).map_err(|e| name_disabled_feature(wasm, features, e))
}

/// When validation failed because a switchable proposal is off, says which one: some of
/// wasmparser's messages name the proposal ("SIMD support is not enabled"), others only the
/// construct ("multiple memories"). The module is validated again with each switched-off
/// proposal turned on (only on this error path); the first that makes it valid is named.
/// The error stays `Invalid`: under the chosen features the module is not valid Wasm.
pub(crate) fn name_disabled_feature(
    wasm: &[u8],
    features: FeatureSet,
    e: CompileError,
) -> CompileError {
    let CompileError::Invalid { message, offset } = e else {
        return e;
    };
    let fix = WasmFeature::ALL.into_iter().find(|f| {
        if features.has(*f) {
            return false;
        }
        let mut more = features;
        more.set(*f, true);
        if *f == WasmFeature::RelaxedSimd {
            more.set(WasmFeature::Simd, true);
        }
        Validator::new_with_features(more.wasmparser())
            .validate_all(wasm)
            .is_ok()
    });
    let message = match fix {
        Some(f) => format!("{message} (the `{f}` proposal is switched off)"),
        None => message,
    };
    CompileError::Invalid { message, offset }
}

fn translate_module_inner(
    wasm: &[u8],
    features: FeatureSet,
) -> Result<ModuleInfo<'_>, CompileError> {
    let mut validator = Validator::new_with_features(features.wasmparser());
    let mut m = ModuleInfo {
        name: None,
        types: Vec::new(),
        imports: Vec::new(),
        imported_func_names: Vec::new(),
        functions: Vec::new(),
        num_imported_funcs: 0,
        num_imported_tables: 0,
        num_imported_memories: 0,
        num_imported_globals: 0,
        tables: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        global_inits: Vec::new(),
        exports: Vec::new(),
        start: None,
        elems: Vec::new(),
        datas: Vec::new(),
        data_bytes: Vec::new(),
        bodies: Vec::new(),
        func_names: Vec::new(),
        escaped_funcs: Vec::new(),
        func_ref_slots: Vec::new(),
        offsets: VMOffsets::new(VMOffsetsCounts::default()),
        wasm,
        features,
    };
    let mut escaped = BTreeSet::new();
    let mut names_payload = None;
    let mut end_seen = false;

    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        let valid = validator.payload(&payload)?;
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader.into_iter_with_offsets() {
                    let (offset, group) = group?;
                    for sub in group.into_types() {
                        let wasmparser::CompositeInnerType::Func(f) = &sub.composite_type.inner
                        else {
                            return Err(CompileError::unsupported(
                                "only function types are supported",
                                offset,
                            ));
                        };
                        let params = f
                            .params()
                            .iter()
                            .map(|t| val_type(*t, offset))
                            .collect::<Result<Vec<_>, _>>()?;
                        let results = f
                            .results()
                            .iter()
                            .map(|t| val_type(*t, offset))
                            .collect::<Result<Vec<_>, _>>()?;
                        m.types.push(FuncType { params, results });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                let start = reader.range().start;
                for import in reader.into_imports() {
                    let import = import?;
                    let kind = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            m.functions.push(t);
                            m.num_imported_funcs += 1;
                            m.imported_func_names
                                .push((import.module.to_string(), import.name.to_string()));
                            ImportKind::Func(t)
                        }
                        TypeRef::Table(t) => {
                            let t = table_type(&t, start)?;
                            m.tables.push(t);
                            m.num_imported_tables += 1;
                            ImportKind::Table(t)
                        }
                        TypeRef::Memory(mt) => {
                            let mt = memory_type(&mt);
                            m.memories.push(mt);
                            m.num_imported_memories += 1;
                            ImportKind::Memory(mt)
                        }
                        TypeRef::Global(g) => {
                            let g = global_type(&g, start)?;
                            m.globals.push(g);
                            m.num_imported_globals += 1;
                            ImportKind::Global(g)
                        }
                        TypeRef::Tag(_) => {
                            return Err(CompileError::unsupported(
                                "tags (exception handling) are not supported",
                                start,
                            ));
                        }
                    };
                    m.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    m.functions.push(t?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader.into_iter_with_offsets() {
                    let (offset, table) = table?;
                    m.tables.push(table_type(&table.ty, offset)?);
                    if let wasmparser::TableInit::Expr(e) = &table.init {
                        // Function-references tables with initialisers are refused by the
                        // validator's feature set; keep the escape analysis honest anyway.
                        const_expr(e, &mut escaped)?;
                        return Err(CompileError::unsupported(
                            "table initialiser expressions are not supported",
                            offset,
                        ));
                    }
                }
            }
            Payload::MemorySection(reader) => {
                check_memory_limits(wasm, reader.range())?;
                for mem in reader {
                    m.memories.push(memory_type(&mem?));
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader.into_iter_with_offsets() {
                    let (offset, g) = g?;
                    m.globals.push(global_type(&g.ty, offset)?);
                    m.global_inits.push(const_expr(&g.init_expr, &mut escaped)?);
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader.into_iter_with_offsets() {
                    let (offset, e) = e?;
                    let kind = match e.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => {
                            escaped.insert(e.index);
                            ExternKind::Func
                        }
                        ExternalKind::Table => ExternKind::Table,
                        ExternalKind::Memory => ExternKind::Memory,
                        ExternalKind::Global => ExternKind::Global,
                        ExternalKind::Tag => {
                            return Err(CompileError::unsupported(
                                "tags (exception handling) are not supported",
                                offset,
                            ));
                        }
                    };
                    m.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => {
                escaped.insert(func);
                m.start = Some(func);
            }
            Payload::ElementSection(reader) => {
                for elem in reader.into_iter_with_offsets() {
                    let (offset, elem) = elem?;
                    let mode = match elem.kind {
                        ElementKind::Passive => SegmentMode::Passive,
                        ElementKind::Declared => SegmentMode::Declared,
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: table_index.unwrap_or(0),
                            offset: const_expr(&offset_expr, &mut escaped)?,
                        },
                    };
                    let (element, items) = match elem.items {
                        ElementItems::Functions(funcs) => {
                            let mut v = Vec::new();
                            for f in funcs {
                                let f = f?;
                                escaped.insert(f);
                                v.push(f);
                            }
                            (ValType::FuncRef, ElemItems::Functions(v))
                        }
                        ElementItems::Expressions(rt, exprs) => {
                            let mut v = Vec::new();
                            for e in exprs {
                                v.push(const_expr(&e?, &mut escaped)?);
                            }
                            (ref_type(rt, offset)?, ElemItems::Exprs(v))
                        }
                    };
                    m.elems.push(ElemSegment {
                        mode,
                        element,
                        items,
                    });
                }
            }
            Payload::DataSection(reader) => {
                for data in reader.into_iter_with_offsets() {
                    let (offset, data) = data?;
                    let mode = match data.kind {
                        wasmparser::DataKind::Passive => SegmentMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: const_expr(&offset_expr, &mut escaped)?,
                        },
                    };
                    let data_off = u32::try_from(m.data_bytes.len()).map_err(|_| {
                        CompileError::unsupported("more than 4 GiB of data segments", offset)
                    })?;
                    m.data_bytes.extend_from_slice(data.data);
                    m.datas.push(DataSegment {
                        mode,
                        data_off,
                        data_len: len32(data.data.len()),
                    });
                }
            }
            Payload::CodeSectionEntry(_) => {
                let ValidPayload::Func(validator, body) = valid else {
                    return Err(CompileError::codegen(
                        None,
                        "code entry without a validator",
                    ));
                };
                // `ref.func` in a body makes its function escape: it needs a `VMFuncRef`.
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    if let Operator::RefFunc { function_index } = ops.read()? {
                        escaped.insert(function_index);
                    }
                }
                m.bodies.push(FunctionBodyInput { validator, body });
            }
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(names) = reader.as_known() {
                    names_payload = Some(names);
                }
            }
            Payload::End(_) => end_seen = true,
            _ => {}
        }
    }
    if !end_seen {
        return Err(CompileError::Invalid {
            message: "unexpected end of module".into(),
            offset: wasm.len() as u64,
        });
    }

    // A malformed name section is ignored, as the spec says: names are only for humans.
    if let Some(names) = names_payload {
        let mut func_names = Vec::new();
        let mut module_name = None;
        for name in names {
            match name {
                Ok(Name::Module { name, .. }) => module_name = Some(name.to_string()),
                Ok(Name::Function(map)) => {
                    for naming in map {
                        let Ok(naming) = naming else { break };
                        func_names.push((naming.index, naming.name.to_string()));
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        func_names.sort_by_key(|(i, _)| *i);
        func_names.dedup_by_key(|(i, _)| *i);
        m.func_names = func_names;
        m.name = module_name;
    }

    let num_defined = m.functions.len() - m.num_imported_funcs as usize;
    m.func_ref_slots = vec![NONE; num_defined];
    for f in escaped {
        if let Some(defined) = f.checked_sub(m.num_imported_funcs)
            && (defined as usize) < num_defined
        {
            m.func_ref_slots[defined as usize] = len32(m.escaped_funcs.len());
            m.escaped_funcs.push(f);
        }
    }
    m.offsets = VMOffsets::new(VMOffsetsCounts {
        imported_memories: m.num_imported_memories,
        defined_memories: len32(m.memories.len()) - m.num_imported_memories,
        imported_functions: m.num_imported_funcs,
        imported_tables: m.num_imported_tables,
        imported_globals: m.num_imported_globals,
        defined_tables: len32(m.tables.len()) - m.num_imported_tables,
        defined_globals: len32(m.globals.len()) - m.num_imported_globals,
        escaped_functions: len32(m.escaped_funcs.len()),
    });
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, Compiler};

    fn compile(features: &[(WasmFeature, bool)], wat: &str) -> Result<Vec<u8>, CompileError> {
        let mut o = CompileOptions::new();
        for (f, on) in features {
            o = o.wasm_feature(*f, *on);
        }
        Compiler::new(&o)
            .unwrap()
            .compile(&wat::parse_str(wat).unwrap())
    }

    fn invalid_message(r: Result<Vec<u8>, CompileError>) -> String {
        match r {
            Err(CompileError::Invalid { message, .. }) => message,
            other => panic!("expected an Invalid error, got {other:?}"),
        }
    }

    #[test]
    fn feature_names_round_trip() {
        for f in WasmFeature::ALL {
            assert_eq!(WasmFeature::from_name(f.name()), Some(f));
            assert_eq!(f.name().parse::<WasmFeature>(), Ok(f));
        }
        assert_eq!(
            WasmFeature::from_name("Relaxed_SIMD"),
            Some(WasmFeature::RelaxedSimd)
        );
        assert!("threads".parse::<WasmFeature>().is_err());
    }

    #[test]
    fn switched_off_proposals_are_named() {
        let simd = "(module (func (result v128) (v128.const i64x2 0 0)))";
        assert!(compile(&[], simd).is_ok());
        let m = invalid_message(compile(&[(WasmFeature::Simd, false)], simd));
        assert!(m.contains("SIMD") && m.contains("`simd`"), "{m}");

        let two = "(module (memory 1) (memory 1))";
        assert!(compile(&[], two).is_ok());
        let m = invalid_message(compile(&[(WasmFeature::MultiMemory, false)], two));
        assert!(m.contains("`multi-memory` proposal is switched off"), "{m}");

        let tail = "(module (func $f (return_call $f)))";
        let m = invalid_message(compile(&[(WasmFeature::TailCall, false)], tail));
        assert!(m.contains("`tail-call`"), "{m}");

        let relaxed = "(module (func (param v128) (result v128) \
                       (i8x16.relaxed_swizzle (local.get 0) (local.get 0))))";
        let m = invalid_message(compile(&[(WasmFeature::Simd, false)], relaxed));
        assert!(m.contains("SIMD"), "{m}");
        let m = invalid_message(compile(&[(WasmFeature::RelaxedSimd, false)], relaxed));
        assert!(m.contains("`relaxed-simd`"), "{m}");
    }

    #[test]
    fn unsupported_proposals_are_named() {
        let threads = "(module (memory 1 1 shared))";
        assert!(invalid_message(compile(&[], threads)).contains("threads"));
        let exceptions = "(module (tag $t) (func (throw $t)))";
        assert!(invalid_message(compile(&[], exceptions)).contains("exceptions"));
        let gc = "(module (type (struct (field i32))))";
        let m = invalid_message(compile(&[], gc));
        assert!(m.to_lowercase().contains("gc"), "{m}");
    }
}
