//! `wasmc check`: an offline link check of a plugin against a host manifest.
//!
//! The manifest ([`HostManifest`], TOML or JSON, format in docs/CLI.md) lists what the host
//! provides (functions with their signatures; memories, tables and globals by kind), what it
//! requires the plugin to export (by name, kind and optionally signature), whether it adds
//! WASI preview1, and renames in the loader's import-map format ([`ImportMap`], the same text
//! `wasmc run --import-map` reads), applied in the linker's order
//! ([`Linker::resolve_name`]). [`check`] compares a [`ModuleFace`] with it and returns a
//! [`CheckReport`]: missing and mistyped imports and exports fail the check; host functions
//! nothing imports are only noted.

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use serde_json::{Value, json};
use wasmc_abi::metadata::ExternKind;
use wasmc_abi::{FuncType, ValType};
use wasmc_loader::wasi::{WasiCtx, WasiCtxBuilder};
use wasmc_loader::{Extern, ImportMap, Linker, Store};

use crate::modinfo::{ExternType, ModuleFace};

/// One thing the host provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostItem {
    /// Module name the host defines it under.
    pub module: String,
    /// Field name.
    pub name: String,
    /// Kind.
    pub kind: ExternKind,
    /// Signature, for functions.
    pub func_type: Option<FuncType>,
}

/// One export the host requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredExport {
    /// Export name.
    pub name: String,
    /// Kind (functions unless said otherwise).
    pub kind: ExternKind,
    /// Signature, when the host cares.
    pub func_type: Option<FuncType>,
}

/// What a host offers a plugin and expects of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostManifest {
    /// Whether the host adds WASI preview1 (`wasi_snapshot_preview1` and `wasi_unstable`).
    pub wasi: bool,
    /// Renames, applied to the plugin's imports before lookup.
    pub renames: ImportMap,
    /// What the host defines.
    pub provides: Vec<HostItem>,
    /// What the plugin must export.
    pub exports: Vec<RequiredExport>,
}

/// Parses a value type name (`i32`, `i64`, `f32`, `f64`, `v128`, `funcref`, `externref`).
fn parse_val_type(s: &str) -> Result<ValType, String> {
    Ok(match s.trim() {
        "i32" => ValType::I32,
        "i64" => ValType::I64,
        "f32" => ValType::F32,
        "f64" => ValType::F64,
        "v128" => ValType::V128,
        "funcref" => ValType::FuncRef,
        "externref" => ValType::ExternRef,
        other => {
            return Err(format!(
                "unknown value type `{other}` (expected i32, i64, f32, f64, v128, funcref or \
                 externref)"
            ));
        }
    })
}

/// Parses a list like `(i32, i64)`, `i32` or `()`.
fn parse_type_list(s: &str) -> Result<Vec<ValType>, String> {
    let s = s.trim();
    let inner = match s.strip_prefix('(') {
        Some(rest) => rest
            .strip_suffix(')')
            .ok_or_else(|| format!("unbalanced parentheses in `{s}`"))?,
        None => s,
    };
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner.split(',').map(parse_val_type).collect()
}

/// Parses a signature: `(i32, i32) -> i32`, `() -> ()`, `(f64) -> (f64, f64)`, or `(i32)`
/// with no arrow for a function without results.
pub fn parse_signature(s: &str) -> Result<FuncType, String> {
    let (params, results) = s.split_once("->").unwrap_or((s, ""));
    let params = params.trim();
    if !params.starts_with('(') {
        return Err(format!(
            "signature `{s}` must start with its parameter list, e.g. `(i32, i32) -> i32`"
        ));
    }
    Ok(FuncType::new(
        parse_type_list(params).map_err(|e| format!("in signature `{s}`: {e}"))?,
        parse_type_list(results).map_err(|e| format!("in signature `{s}`: {e}"))?,
    ))
}

/// Writes a signature in the manifest's own syntax, `(i32, i32) -> i32`.
pub fn signature(t: &FuncType) -> String {
    let list = |v: &[ValType]| {
        v.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match t.results.len() {
        0 => format!("({}) -> ()", list(&t.params)),
        1 => format!("({}) -> {}", list(&t.params), t.results[0]),
        _ => format!("({}) -> ({})", list(&t.params), list(&t.results)),
    }
}

fn parse_kind(s: &str) -> Result<ExternKind, String> {
    Ok(match s {
        "func" | "function" => ExternKind::Func,
        "memory" => ExternKind::Memory,
        "table" => ExternKind::Table,
        "global" => ExternKind::Global,
        other => {
            return Err(format!(
                "unknown kind `{other}` (expected func, memory, table or global)"
            ));
        }
    })
}

fn kind_name(k: ExternKind) -> &'static str {
    match k {
        ExternKind::Func => "func",
        ExternKind::Memory => "memory",
        ExternKind::Table => "table",
        ExternKind::Global => "global",
    }
}

/// Reads a string field of a table, naming the table in errors.
fn str_field<'a>(v: &'a Value, key: &str, what: &str) -> Result<Option<&'a str>, String> {
    match v.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{what}: `{key}` must be a string, found {other}")),
    }
}

fn required_str<'a>(v: &'a Value, key: &str, what: &str) -> Result<&'a str, String> {
    str_field(v, key, what)?.ok_or_else(|| format!("{what}: missing `{key}`"))
}

/// A signature given as `type = "(i32) -> i32"` or as `params`/`results` arrays.
fn signature_field(v: &Value, what: &str) -> Result<Option<FuncType>, String> {
    if let Some(t) = str_field(v, "type", what)? {
        if v.get("params").is_some() || v.get("results").is_some() {
            return Err(format!(
                "{what}: give `type` or `params`/`results`, not both"
            ));
        }
        return parse_signature(t)
            .map(Some)
            .map_err(|e| format!("{what}: {e}"));
    }
    let list = |key: &str| -> Result<Option<Vec<ValType>>, String> {
        match v.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => parse_val_type(s),
                    other => Err(format!("`{key}` entries must be strings, found {other}")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
                .map_err(|e| format!("{what}: {e}")),
            Some(other) => Err(format!("{what}: `{key}` must be an array, found {other}")),
        }
    };
    match (list("params")?, list("results")?) {
        (None, None) => Ok(None),
        (p, r) => Ok(Some(FuncType::new(
            p.unwrap_or_default(),
            r.unwrap_or_default(),
        ))),
    }
}

fn array<'a>(root: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match root.get(key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(format!("`{key}` must be an array of tables, found {other}")),
    }
}

impl HostManifest {
    /// Parses a manifest from TOML (`json == false`) or JSON text.
    ///
    /// # Errors
    ///
    /// What is wrong, naming the entry (`functions[2]`) or the syntax error's position.
    pub fn parse(text: &str, json: bool) -> Result<HostManifest, String> {
        let root: Value = if json {
            serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?
        } else {
            let t: toml::Table = toml::from_str(text).map_err(|e| format!("invalid TOML: {e}"))?;
            serde_json::to_value(t).map_err(|e| format!("invalid TOML: {e}"))?
        };
        HostManifest::from_value(&root)
    }

    fn from_value(root: &Value) -> Result<HostManifest, String> {
        let Value::Object(top) = root else {
            return Err("the manifest must be a table (object) at the top".into());
        };
        const KNOWN: [&str; 4] = ["wasi", "renames", "functions", "exports"];
        if let Some(k) = top.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!("unknown key `{k}` (expected {})", KNOWN.join(", ")));
        }
        let mut m = HostManifest::default();
        match root.get("wasi") {
            None => {}
            Some(Value::Bool(b)) => m.wasi = *b,
            Some(other) => return Err(format!("`wasi` must be true or false, found {other}")),
        }
        let renames = match root.get("renames") {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(lines)) => lines
                .iter()
                .map(|l| match l {
                    Value::String(s) => Ok(s.as_str()),
                    other => Err(format!("`renames` lines must be strings, found {other}")),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join("\n"),
            Some(other) => {
                return Err(format!(
                    "`renames` must be import-map text or an array of its lines, found {other}"
                ));
            }
        };
        m.renames = ImportMap::parse(&renames).map_err(|e| format!("renames: {e}"))?;
        for (i, f) in array(root, "functions")?.iter().enumerate() {
            let what = format!("functions[{i}]");
            let kind = match str_field(f, "kind", &what)? {
                Some(k) => parse_kind(k).map_err(|e| format!("{what}: {e}"))?,
                None => ExternKind::Func,
            };
            let func_type = signature_field(f, &what)?;
            if kind == ExternKind::Func && func_type.is_none() {
                return Err(format!(
                    "{what}: a function needs its signature: `type = \"(i32) -> i32\"` or \
                     `params`/`results`"
                ));
            }
            m.provides.push(HostItem {
                module: required_str(f, "module", &what)?.to_owned(),
                name: required_str(f, "name", &what)?.to_owned(),
                kind,
                func_type: func_type.filter(|_| kind == ExternKind::Func),
            });
        }
        for (i, e) in array(root, "exports")?.iter().enumerate() {
            let what = format!("exports[{i}]");
            let kind = match str_field(e, "kind", &what)? {
                Some(k) => parse_kind(k).map_err(|e| format!("{what}: {e}"))?,
                None => ExternKind::Func,
            };
            m.exports.push(RequiredExport {
                name: required_str(e, "name", &what)?.to_owned(),
                kind,
                func_type: signature_field(e, &what)?.filter(|_| kind == ExternKind::Func),
            });
        }
        Ok(m)
    }
}

/// One finding of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// An import nothing provides.
    MissingImport {
        /// Module as declared by the plugin.
        module: String,
        /// Name as declared.
        name: String,
        /// The `(module, name)` looked up after renames.
        resolved: (String, String),
        /// What the plugin expects.
        expected: String,
    },
    /// An import the host provides with another type or kind.
    MistypedImport {
        /// Module as declared by the plugin.
        module: String,
        /// Name as declared.
        name: String,
        /// The `(module, name)` looked up after renames.
        resolved: (String, String),
        /// What the plugin expects.
        expected: String,
        /// What the host provides.
        found: String,
    },
    /// A required export the plugin lacks.
    MissingExport {
        /// Export name.
        name: String,
        /// What the host requires.
        expected: String,
    },
    /// A required export of another kind or type.
    MistypedExport {
        /// Export name.
        name: String,
        /// What the host requires.
        expected: String,
        /// What the plugin exports.
        found: String,
    },
    /// Something the host provides that no import uses (a note: it does not fail the
    /// check).
    UnusedHostItem {
        /// Module.
        module: String,
        /// Name.
        name: String,
        /// What it is.
        kind: ExternKind,
    },
}

impl Finding {
    /// Whether this finding makes the plugin unlinkable.
    pub fn is_error(&self) -> bool {
        !matches!(self, Finding::UnusedHostItem { .. })
    }

    fn code(&self) -> &'static str {
        match self {
            Finding::MissingImport { .. } => "missing-import",
            Finding::MistypedImport { .. } => "mistyped-import",
            Finding::MissingExport { .. } => "missing-export",
            Finding::MistypedExport { .. } => "mistyped-export",
            Finding::UnusedHostItem { .. } => "unused-host-item",
        }
    }

    /// The finding as JSON.
    pub fn to_json(&self) -> Value {
        let mut v = match self {
            Finding::MissingImport {
                module,
                name,
                resolved,
                expected,
            } => json!({"module": module, "name": name,
                "resolved": {"module": resolved.0, "name": resolved.1}, "expected": expected}),
            Finding::MistypedImport {
                module,
                name,
                resolved,
                expected,
                found,
            } => json!({"module": module, "name": name,
                "resolved": {"module": resolved.0, "name": resolved.1},
                "expected": expected, "found": found}),
            Finding::MissingExport { name, expected } => {
                json!({"name": name, "expected": expected})
            }
            Finding::MistypedExport {
                name,
                expected,
                found,
            } => json!({"name": name, "expected": expected, "found": found}),
            Finding::UnusedHostItem { module, name, kind } => {
                json!({"module": module, "name": name, "item": kind_name(*kind)})
            }
        };
        v["kind"] = json!(self.code());
        v["severity"] = json!(if self.is_error() { "error" } else { "note" });
        v
    }
}

fn renamed_note(module: &str, name: &str, resolved: &(String, String)) -> String {
    if (module, name) == (resolved.0.as_str(), resolved.1.as_str()) {
        String::new()
    } else {
        format!(" (renamed to `{}.{}`)", resolved.0, resolved.1)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::MissingImport {
                module,
                name,
                resolved,
                expected,
            } => write!(
                f,
                "error: missing import `{module}.{name}`{}: the host provides nothing under \
                 that name (the plugin expects {expected})",
                renamed_note(module, name, resolved)
            ),
            Finding::MistypedImport {
                module,
                name,
                resolved,
                expected,
                found,
            } => write!(
                f,
                "error: mistyped import `{module}.{name}`{}: the plugin expects {expected}, \
                 the host provides {found}",
                renamed_note(module, name, resolved)
            ),
            Finding::MissingExport { name, expected } => write!(
                f,
                "error: missing export `{name}`: the host requires {expected}"
            ),
            Finding::MistypedExport {
                name,
                expected,
                found,
            } => write!(
                f,
                "error: mistyped export `{name}`: the host requires {expected}, the plugin \
                 exports {found}"
            ),
            Finding::UnusedHostItem { module, name, kind } => write!(
                f,
                "note: host {kind} `{module}.{name}` is not imported by the plugin"
            ),
        }
    }
}

/// The outcome of [`check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Every finding: imports in plugin order, then required exports in manifest order,
    /// then the notes.
    pub findings: Vec<Finding>,
    /// How many imports the plugin has.
    pub imports: usize,
    /// How many of them the host satisfies.
    pub satisfied: usize,
}

impl CheckReport {
    /// Whether the plugin links against the host.
    pub fn linkable(&self) -> bool {
        !self.findings.iter().any(Finding::is_error)
    }

    /// The report as text, one finding per line, then a summary line.
    pub fn to_text(&self, plugin: &str) -> String {
        let mut s = String::new();
        for f in &self.findings {
            let _ = writeln!(s, "{f}");
        }
        let errors = self.findings.iter().filter(|f| f.is_error()).count();
        if errors == 0 {
            let _ = writeln!(
                s,
                "ok: {plugin} links against the host ({} of {} imports satisfied)",
                self.satisfied, self.imports
            );
        } else {
            let _ = writeln!(
                s,
                "error: {plugin} does not link against the host: {errors} problem(s)"
            );
        }
        s
    }

    /// The report as JSON.
    pub fn to_json(&self, plugin: &str) -> Value {
        json!({
            "plugin": plugin,
            "linkable": self.linkable(),
            "imports": self.imports,
            "satisfied": self.satisfied,
            "findings": self.findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
        })
    }
}

fn describe(kind: ExternKind, func_type: Option<&FuncType>) -> String {
    match (kind, func_type) {
        (ExternKind::Func, Some(t)) => format!("func {}", signature(t)),
        (k, _) => kind_name(k).to_owned(),
    }
}

fn describe_import(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(t) => describe(ExternKind::Func, Some(t)),
        other => kind_name(other.kind()).to_owned(),
    }
}

/// The WASI functions a host that adds WASI preview1 defines, with their types: read from a
/// real linker, so the check agrees with `wasmc run`.
struct WasiFunctions {
    linker: Linker<WasiCtx>,
    store: Store<WasiCtx>,
}

impl WasiFunctions {
    fn new() -> Result<WasiFunctions, String> {
        let mut linker = Linker::<WasiCtx>::new();
        wasmc_loader::wasi::add_to_linker(&mut linker, |ctx| ctx);
        let ctx = WasiCtxBuilder::new()
            .build()
            .map_err(|e| format!("setting up WASI: {e}"))?;
        Ok(WasiFunctions {
            linker,
            store: Store::new(ctx),
        })
    }

    fn get(&mut self, module: &str, name: &str) -> Option<(ExternKind, Option<FuncType>)> {
        match self.linker.get(&mut self.store, module, name)? {
            Extern::Func(f) => Some((ExternKind::Func, Some(f.ty(&self.store)))),
            Extern::Memory(_) => Some((ExternKind::Memory, None)),
            Extern::Table(_) => Some((ExternKind::Table, None)),
            Extern::Global(_) => Some((ExternKind::Global, None)),
        }
    }
}

/// Checks `plugin` against `host`.
///
/// # Errors
///
/// Only when WASI cannot be set up to read its function types.
pub fn check(plugin: &ModuleFace, host: &HostManifest) -> Result<CheckReport, String> {
    let mut renamer = Linker::<()>::new();
    renamer.apply_import_map(&host.renames);
    let mut wasi = if host.wasi {
        Some(WasiFunctions::new()?)
    } else {
        None
    };
    let mut report = CheckReport {
        imports: plugin.imports.len(),
        ..CheckReport::default()
    };
    let mut used: HashSet<usize> = HashSet::new();
    for import in &plugin.imports {
        let (rm, rn) = renamer.resolve_name(&import.module, &import.name);
        let resolved = (rm.to_owned(), rn.to_owned());
        let expected = describe_import(&import.ty);
        let provided = match host
            .provides
            .iter()
            .position(|p| p.module == resolved.0 && p.name == resolved.1)
        {
            Some(i) => {
                used.insert(i);
                Some((host.provides[i].kind, host.provides[i].func_type.clone()))
            }
            None => wasi.as_mut().and_then(|w| w.get(&resolved.0, &resolved.1)),
        };
        let Some((kind, func_type)) = provided else {
            report.findings.push(Finding::MissingImport {
                module: import.module.clone(),
                name: import.name.clone(),
                resolved,
                expected,
            });
            continue;
        };
        let matches = kind == import.ty.kind()
            && match (&import.ty, &func_type) {
                (ExternType::Func(want), Some(have)) => want == have,
                _ => true,
            };
        if matches {
            report.satisfied += 1;
        } else {
            report.findings.push(Finding::MistypedImport {
                module: import.module.clone(),
                name: import.name.clone(),
                resolved,
                expected,
                found: describe(kind, func_type.as_ref()),
            });
        }
    }
    for req in &host.exports {
        let expected = describe(req.kind, req.func_type.as_ref());
        let Some(found) = plugin.exports.iter().find(|e| e.name == req.name) else {
            report.findings.push(Finding::MissingExport {
                name: req.name.clone(),
                expected,
            });
            continue;
        };
        let ok = found.kind == req.kind
            && match (&req.func_type, &found.func_type) {
                (Some(want), Some(have)) => want == have,
                (Some(_), None) => false,
                (None, _) => true,
            };
        if !ok {
            report.findings.push(Finding::MistypedExport {
                name: req.name.clone(),
                expected,
                found: describe(found.kind, found.func_type.as_ref()),
            });
        }
    }
    for (i, p) in host.provides.iter().enumerate() {
        if !used.contains(&i) {
            report.findings.push(Finding::UnusedHostItem {
                module: p.module.clone(),
                name: p.name.clone(),
                kind: p.kind,
            });
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_parse_and_print() {
        let t = parse_signature("(i32, i64) -> f32").unwrap();
        assert_eq!(
            t,
            FuncType::new([ValType::I32, ValType::I64], [ValType::F32])
        );
        assert_eq!(signature(&t), "(i32, i64) -> f32");
        assert_eq!(parse_signature("()").unwrap(), FuncType::new([], []));
        assert_eq!(signature(&parse_signature("() -> ()").unwrap()), "() -> ()");
        let two = parse_signature("(f64) -> (f64, f64)").unwrap();
        assert_eq!(signature(&two), "(f64) -> (f64, f64)");
        assert!(parse_signature("i32 -> i32").is_err());
        assert!(parse_signature("(i33) -> ()").unwrap_err().contains("i33"));
    }

    #[test]
    fn manifest_errors_name_the_entry() {
        let e = HostManifest::parse("[[functions]]\nmodule = \"env\"\nname = \"f\"\n", false)
            .unwrap_err();
        assert!(e.contains("functions[0]") && e.contains("signature"), "{e}");
        let e = HostManifest::parse("bogus = 1", false).unwrap_err();
        assert!(e.contains("unknown key `bogus`"), "{e}");
        let e = HostManifest::parse("{\"renames\": \"modul a = b\"}", true).unwrap_err();
        assert!(e.contains("renames: import map line 1"), "{e}");
        let e =
            HostManifest::parse("[[exports]]\nname = \"x\"\nkind = \"thing\"", false).unwrap_err();
        assert!(e.contains("exports[0]") && e.contains("thing"), "{e}");
    }

    #[test]
    fn renames_apply_before_lookup() {
        let wasm = wat::parse_str(
            r#"(module (import "old" "f" (func (param i32))) (func (export "run")))"#,
        )
        .unwrap();
        let face = ModuleFace::from_wasm(&wasm).unwrap();
        let host = HostManifest::parse(
            r#"
            renames = "module old = env"
            [[functions]]
            module = "env"
            name = "f"
            params = ["i32"]
            [[exports]]
            name = "run"
            type = "() -> ()"
            "#,
            false,
        )
        .unwrap();
        let report = check(&face, &host).unwrap();
        assert!(report.linkable(), "{report:?}");
        assert_eq!(report.satisfied, 1);
    }
}
