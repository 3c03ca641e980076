//! The link-relevant face of a module, read without compiling it: its imports and exports with
//! their types ([`ModuleFace`], from a Wasm binary with wasmparser or from an artifact's
//! metadata), and where a byte offset of a Wasm binary falls ([`locate`]: which function, with
//! its name from the name section), for error messages.

use wasmc_abi::metadata::{
    ExternKind, GlobalType, ImportKind, MemoryType, ModuleMetadata, TableType,
};
use wasmc_abi::{FuncType, ValType};
use wasmparser::{KnownCustom, Name, Parser, Payload, TypeRef, Validator, WasmFeatures};

/// The type of an import or export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternType {
    /// A function with this signature.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

impl ExternType {
    /// Which kind of extern this is.
    pub fn kind(&self) -> ExternKind {
        match self {
            ExternType::Func(_) => ExternKind::Func,
            ExternType::Table(_) => ExternKind::Table,
            ExternType::Memory(_) => ExternKind::Memory,
            ExternType::Global(_) => ExternKind::Global,
        }
    }
}

/// One import of the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceImport {
    /// Module name as declared.
    pub module: String,
    /// Field name as declared.
    pub name: String,
    /// What is imported.
    pub ty: ExternType,
}

/// One export of the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceExport {
    /// Export name.
    pub name: String,
    /// Kind.
    pub kind: ExternKind,
    /// The signature of an exported function.
    pub func_type: Option<FuncType>,
}

/// Imports and exports of a module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleFace {
    /// Imports in module order.
    pub imports: Vec<FaceImport>,
    /// Exports in module order.
    pub exports: Vec<FaceExport>,
}

/// Converts a wasmparser value type; only the types wasmc compiles have an equivalent.
fn val_type(t: wasmparser::ValType) -> Result<ValType, String> {
    Ok(match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        wasmparser::ValType::Ref(r) if r.is_extern_ref() => ValType::ExternRef,
        wasmparser::ValType::Ref(r) => return Err(format!("reference type {r} is not supported")),
    })
}

fn ref_is_func(r: wasmparser::RefType) -> Result<ValType, String> {
    val_type(wasmparser::ValType::Ref(r))
}

fn limits_table(t: &wasmparser::TableType) -> Result<TableType, String> {
    Ok(TableType {
        element: ref_is_func(t.element_type)?,
        min: t.initial,
        max: t.maximum,
        idx64: t.table64,
    })
}

fn memory(m: &wasmparser::MemoryType) -> MemoryType {
    MemoryType {
        min: m.initial,
        max: m.maximum,
        idx64: m.memory64,
        shared: m.shared,
        page_size_log2: u8::try_from(m.page_size_log2.unwrap_or(16)).unwrap_or(16),
    }
}

impl ModuleFace {
    /// Reads a Wasm binary's imports and exports. The module is validated first (with every
    /// proposal wasmparser knows switched on: this is about linking, not about what this
    /// compiler accepts), so the types are those of a well-formed module.
    ///
    /// # Errors
    ///
    /// What is wrong with the module, and the byte offset.
    pub fn from_wasm(wasm: &[u8]) -> Result<ModuleFace, String> {
        Validator::new_with_features(WasmFeatures::all())
            .validate_all(wasm)
            .map_err(|e| {
                format!(
                    "invalid module: {} (at offset {:#x})",
                    e.message(),
                    e.offset()
                )
            })?;
        let err = |e: wasmparser::BinaryReaderError| e.to_string();
        let mut types: Vec<Option<FuncType>> = Vec::new();
        let mut funcs: Vec<u32> = Vec::new();
        let mut face = ModuleFace::default();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.map_err(err)? {
                Payload::TypeSection(r) => {
                    for group in r {
                        for sub in group.map_err(err)?.into_types() {
                            types.push(match &sub.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(f) => {
                                    let list = |ts: &[wasmparser::ValType]| {
                                        ts.iter()
                                            .map(|t| val_type(*t))
                                            .collect::<Result<Vec<_>, String>>()
                                    };
                                    Some(FuncType::new(list(f.params())?, list(f.results())?))
                                }
                                _ => None,
                            });
                        }
                    }
                }
                Payload::ImportSection(r) => {
                    for import in r.into_imports() {
                        let import = import.map_err(err)?;
                        let ty = match import.ty {
                            TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                                funcs.push(t);
                                ExternType::Func(func_type(&types, t)?)
                            }
                            TypeRef::Table(t) => ExternType::Table(limits_table(&t)?),
                            TypeRef::Memory(m) => ExternType::Memory(memory(&m)),
                            TypeRef::Global(g) => ExternType::Global(GlobalType {
                                ty: val_type(g.content_type)?,
                                mutable: g.mutable,
                            }),
                            TypeRef::Tag(_) => {
                                return Err(format!(
                                    "import {}.{} is a tag (exception handling is not supported)",
                                    import.module, import.name
                                ));
                            }
                        };
                        face.imports.push(FaceImport {
                            module: import.module.to_owned(),
                            name: import.name.to_owned(),
                            ty,
                        });
                    }
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        funcs.push(t.map_err(err)?);
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.map_err(err)?;
                        let (kind, func_type) = match e.kind {
                            wasmparser::ExternalKind::Func
                            | wasmparser::ExternalKind::FuncExact => {
                                let ty = funcs.get(e.index as usize).ok_or_else(|| {
                                    format!("export `{}` names a missing function", e.name)
                                })?;
                                (ExternKind::Func, Some(func_type(&types, *ty)?))
                            }
                            wasmparser::ExternalKind::Table => (ExternKind::Table, None),
                            wasmparser::ExternalKind::Memory => (ExternKind::Memory, None),
                            wasmparser::ExternalKind::Global => (ExternKind::Global, None),
                            wasmparser::ExternalKind::Tag => continue,
                        };
                        face.exports.push(FaceExport {
                            name: e.name.to_owned(),
                            kind,
                            func_type,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(face)
    }

    /// The imports and exports an artifact's metadata records.
    pub fn from_metadata(meta: &ModuleMetadata) -> ModuleFace {
        let imports = meta
            .imports
            .iter()
            .map(|i| FaceImport {
                module: i.module.clone(),
                name: i.name.clone(),
                ty: match &i.kind {
                    ImportKind::Func(t) => ExternType::Func(
                        meta.types
                            .get(*t as usize)
                            .cloned()
                            .unwrap_or_else(|| FuncType::new([], [])),
                    ),
                    ImportKind::Table(t) => ExternType::Table(*t),
                    ImportKind::Memory(m) => ExternType::Memory(*m),
                    ImportKind::Global(g) => ExternType::Global(*g),
                },
            })
            .collect();
        let exports = meta
            .exports
            .iter()
            .map(|e| FaceExport {
                name: e.name.clone(),
                kind: e.kind,
                func_type: (e.kind == ExternKind::Func)
                    .then(|| meta.func_type(e.index).cloned())
                    .flatten(),
            })
            .collect();
        ModuleFace { imports, exports }
    }
}

fn func_type(types: &[Option<FuncType>], index: u32) -> Result<FuncType, String> {
    types
        .get(index as usize)
        .cloned()
        .flatten()
        .ok_or_else(|| format!("type {index} is not a function type"))
}

/// Where a byte offset of a Wasm binary is: the defined function whose body contains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Index in the function index space (imported functions first).
    pub func_index: u32,
    /// Its name from the name section, if any.
    pub func_name: Option<String>,
}

/// Finds the function whose body contains `offset`. The module may be invalid (that is why
/// we are asked): sections are read only as far as they parse, and `None` is returned when
/// the offset is outside every body that could be read.
pub fn locate(wasm: &[u8], offset: u64) -> Option<Location> {
    let mut imported_funcs: u32 = 0;
    let mut body_index: u32 = 0;
    let mut found: Option<u32> = None;
    let mut names: Vec<(u32, String)> = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::ImportSection(r) => {
                for import in r.into_imports() {
                    match import {
                        Ok(i) if matches!(i.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) => {
                            imported_funcs += 1;
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let range = body.range();
                if found.is_none() && range.contains(&offset) {
                    found = Some(body_index);
                }
                body_index += 1;
            }
            Payload::CustomSection(c) => {
                if let KnownCustom::Name(reader) = c.as_known() {
                    for name in reader {
                        let Ok(Name::Function(map)) = name else {
                            continue;
                        };
                        for naming in map.into_iter().map_while(Result::ok) {
                            names.push((naming.index, naming.name.to_owned()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let func_index = imported_funcs.checked_add(found?)?;
    let func_name = names
        .into_iter()
        .find(|(i, _)| *i == func_index)
        .map(|(_, n)| n);
    Some(Location {
        func_index,
        func_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAT: &str = r#"(module
        (import "env" "log" (func $log (param i32)))
        (memory (export "memory") 1)
        (func $process (export "process") (param i32) (result i32) local.get 0)
        (func $helper i32.const 1 drop))"#;

    #[test]
    fn face_of_wasm_lists_typed_imports_and_exports() {
        let wasm = wat::parse_str(WAT).unwrap();
        let face = ModuleFace::from_wasm(&wasm).unwrap();
        assert_eq!(face.imports.len(), 1);
        assert_eq!(
            face.imports[0].ty,
            ExternType::Func(FuncType::new([ValType::I32], []))
        );
        let process = face.exports.iter().find(|e| e.name == "process").unwrap();
        assert_eq!(
            process.func_type,
            Some(FuncType::new([ValType::I32], [ValType::I32]))
        );
        assert!(
            face.exports
                .iter()
                .any(|e| e.name == "memory" && e.kind == ExternKind::Memory)
        );
        assert!(ModuleFace::from_wasm(b"\0asm\x01\0\0\0\x01").is_err());
    }

    #[test]
    fn offsets_map_to_named_functions() {
        let wasm = wat::parse_str(WAT).unwrap();
        // The last byte before the final `end` of the last body is inside `$helper`.
        let mut offset = None;
        for p in Parser::new(0).parse_all(&wasm) {
            if let Ok(Payload::CodeSectionEntry(b)) = p {
                offset = Some(b.range().start + 1);
            }
        }
        let loc = locate(&wasm, offset.unwrap()).unwrap();
        assert_eq!(loc.func_index, 2);
        assert_eq!(loc.func_name.as_deref(), Some("helper"));
        assert_eq!(locate(&wasm, 0), None);
    }
}
