//! The Rust bindings [`super::link_file`] writes next to a linkable artifact: a module with
//! the four linker symbols as extern statics, `artifact()` calling
//! `wasmc_loader::Artifact::from_linked` on them, and an `Exports` struct with one typed
//! method per exported function, generated from the artifact's own metadata (so the types are
//! exactly the ones the loader checks) plus parameter names from the Wasm name section.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use wasmc_abi::metadata::{ExternKind, ModuleMetadata};
use wasmc_abi::obj::LinkSymbols;
use wasmc_abi::{FuncType, ValType};

/// Words that cannot name a Rust item (strict and reserved keywords, 2024 edition).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// `name` as a Rust identifier: characters outside `[A-Za-z0-9_]` become `_`, a leading
/// digit gets a `_` in front, keywords get a `_` appended; `fallback` when nothing is left.
pub(crate) fn rust_ident(name: &str, fallback: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.chars().all(|c| c == '_') {
        return fallback.to_string();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Local (parameter) names of functions from the name section, by function index. Any
/// problem in the section just means no names: they are only cosmetic.
fn param_names(wasm: &[u8]) -> HashMap<u32, HashMap<u32, String>> {
    use wasmparser::{KnownCustom, Name, Parser, Payload};
    let mut out = HashMap::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(Payload::CustomSection(c)) = payload else {
            continue;
        };
        let KnownCustom::Name(reader) = c.as_known() else {
            continue;
        };
        for name in reader.into_iter().flatten() {
            let Name::Local(map) = name else { continue };
            for func in map.into_iter().flatten() {
                let names = func
                    .names
                    .flatten()
                    .map(|n| (n.index, n.name.to_string()))
                    .collect();
                out.insert(func.index, names);
            }
        }
    }
    out
}

/// How a value of a Wasm type looks in the bindings.
fn rust_type(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "u128",
        ValType::FuncRef => "::core::option::Option<::wasmc_loader::Func>",
        ValType::ExternRef => "::core::option::Option<::wasmc_loader::ExternRef>",
    }
}

/// `()`, `T` or `(T, U, ...)`.
fn tuple(types: &[&str]) -> String {
    match types {
        [one] => (*one).to_string(),
        _ => format!(
            "({})",
            types.iter().map(|t| format!("{t},")).collect::<String>()
        ),
    }
}

/// `Val` expression of parameter `name` of type `t`.
fn to_val(t: ValType, name: &str) -> String {
    match t {
        ValType::I32 => format!("::wasmc_loader::Val::I32({name})"),
        ValType::I64 => format!("::wasmc_loader::Val::I64({name})"),
        ValType::F32 => format!("::wasmc_loader::Val::F32({name}.to_bits())"),
        ValType::F64 => format!("::wasmc_loader::Val::F64({name}.to_bits())"),
        ValType::V128 => format!("::wasmc_loader::Val::V128({name})"),
        ValType::FuncRef => format!("::wasmc_loader::Val::FuncRef({name})"),
        ValType::ExternRef => format!("::wasmc_loader::Val::ExternRef({name})"),
    }
}

/// Pattern that takes a result of type `t` out of a `Val` into `x`.
fn val_pattern(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "::wasmc_loader::Val::I32(x)",
        ValType::I64 => "::wasmc_loader::Val::I64(x)",
        ValType::F32 => "::wasmc_loader::Val::F32(x)",
        ValType::F64 => "::wasmc_loader::Val::F64(x)",
        ValType::V128 => "::wasmc_loader::Val::V128(x)",
        ValType::FuncRef => "::wasmc_loader::Val::FuncRef(x)",
        ValType::ExternRef => "::wasmc_loader::Val::ExternRef(x)",
    }
}

fn from_val_expr(t: ValType) -> &'static str {
    match t {
        ValType::F32 => "f32::from_bits(*x)",
        ValType::F64 => "f64::from_bits(*x)",
        _ => "*x",
    }
}

/// Whether `TypedFunc` can call functions of type `ty` (it handles numbers and vectors, up
/// to 8 parameters and results); others go through `Func::call` with `Val`s.
fn typed_func_can(ty: &FuncType) -> bool {
    ty.params.len() <= 8
        && ty.results.len() <= 8
        && !ty.params.iter().chain(&ty.results).any(|t| t.is_ref())
}

fn signature(ty: &FuncType) -> String {
    let list = |ts: &[ValType]| {
        ts.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(&ty.params), list(&ty.results))
}

/// The bindings source for an artifact with metadata `meta` and link prefix `prefix`,
/// compiled from `wasm` (for parameter names); `source` names the input in comments.
pub(crate) fn generate(meta: &ModuleMetadata, wasm: &[u8], prefix: &str, source: &str) -> String {
    let syms = LinkSymbols::new(prefix);
    let names = param_names(wasm);
    let module = rust_ident(prefix, "wasm");
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "// @generated by wasmc_compiler::build::link_file from {source}. Do not edit.\n"
    );
    let _ = writeln!(
        w,
        "/// The WebAssembly module `{source}`, compiled ahead of time and linked into this \
         program\n/// (docs/STATIC_LINKING.md). Link prefix `{prefix}`."
    );
    if !meta.imports.is_empty() {
        let _ = writeln!(w, "///\n/// Imports, to define in the `Linker`:\n///");
        for i in &meta.imports {
            let what = match &i.kind {
                wasmc_abi::metadata::ImportKind::Func(t) => {
                    meta.types.get(*t as usize).map_or_else(
                        || "function".to_string(),
                        |t| format!("function {}", signature(t)),
                    )
                }
                other => other.kind().to_string(),
            };
            let _ = writeln!(
                w,
                "/// - `{}::{}`: {what}",
                i.module.escape_debug(),
                i.name.escape_debug()
            );
        }
    }
    let _ = writeln!(
        w,
        r#"#[allow(unsafe_code, dead_code, non_snake_case, clippy::all, reason = "generated bindings")]
pub mod {module} {{
    unsafe extern "C" {{
        #[link_name = "{text}"]
        safe static TEXT: u8;
        #[link_name = "{text_end}"]
        safe static TEXT_END: u8;
        #[link_name = "{image}"]
        safe static IMAGE: u8;
        #[link_name = "{image_end}"]
        safe static IMAGE_END: u8;
    }}

    /// The link prefix of this module's symbols.
    pub const PREFIX: &str = "{prefix}";

    fn between(start: *const u8, end: *const u8) -> &'static [u8] {{
        let len = (end as usize).saturating_sub(start as usize);
        // SAFETY: the linker placed `len` bytes of one section between the two symbols, in
        // the program's own read-only (image) or read+execute (text) pages, for as long as
        // the program runs.
        unsafe {{ ::core::slice::from_raw_parts(start, len) }}
    }}

    /// Addresses of this module's code in the executable: `start..end`.
    pub fn code_range() -> ::core::ops::Range<usize> {{
        (&raw const TEXT as usize)..(&raw const TEXT_END as usize)
    }}

    /// Loads the linked artifact (checked, not copied: the code runs where the linker put
    /// it). `Artifact` is cheap to clone; load it once and instantiate it as often as needed.
    ///
    /// # Errors
    ///
    /// A load error when the artifact does not suit this host (CPU features) or the program
    /// was linked wrongly.
    pub fn artifact() -> ::core::result::Result<::wasmc_loader::Artifact, ::wasmc_loader::Error> {{
        let text = between(&raw const TEXT, &raw const TEXT_END);
        let image = between(&raw const IMAGE, &raw const IMAGE_END);
        // SAFETY: both slices are this module's symbols, written by the wasmc compiler in
        // this program's build script and linked into its executable pages.
        unsafe {{ ::wasmc_loader::Artifact::from_linked(image, text) }}
    }}

    /// [`artifact`] without the checksum over image and code
    /// (`wasmc_loader::Artifact::from_linked_unchecked`): every other check still runs.
    ///
    /// # Errors
    ///
    /// As [`artifact`], except a checksum mismatch.
    pub fn artifact_unchecked() -> ::core::result::Result<::wasmc_loader::Artifact, ::wasmc_loader::Error> {{
        let text = between(&raw const TEXT, &raw const TEXT_END);
        let image = between(&raw const IMAGE, &raw const IMAGE_END);
        // SAFETY: as in `artifact`; the two slices come from the same module's symbols.
        unsafe {{ ::wasmc_loader::Artifact::from_linked_unchecked(image, text) }}
    }}
"#,
        text = syms.text,
        text_end = syms.text_end,
        image = syms.image,
        image_end = syms.image_end,
    );
    exports(w, meta, &names);
    let _ = writeln!(w, "}}");
    s
}

/// The `Exports` struct and its methods.
fn exports(w: &mut String, meta: &ModuleMetadata, names: &HashMap<u32, HashMap<u32, String>>) {
    let mut used: HashSet<String> = ["new"].iter().map(ToString::to_string).collect();
    let mut fields = String::new();
    let mut init = String::new();
    let mut methods = String::new();
    let funcs = meta
        .exports
        .iter()
        .filter(|e| e.kind == ExternKind::Func)
        .filter_map(|e| Some((e, meta.func_type(e.index)?)));
    for (i, (export, ty)) in funcs.enumerate() {
        let mut method = rust_ident(&export.name, "export");
        if !used.insert(method.clone()) {
            method = (2..)
                .map(|n| format!("{method}_{n}"))
                .find(|m| used.insert(m.clone()))
                .unwrap_or_default();
        }
        let quoted = format!("{:?}", export.name);
        let local = names.get(&export.index);
        let mut params: Vec<String> = Vec::new();
        for p in 0..ty.params.len() {
            let fallback = format!("p{p}");
            let named = u32::try_from(p)
                .ok()
                .and_then(|p| local?.get(&p))
                .map_or_else(|| fallback.clone(), |n| rust_ident(n, &fallback));
            // `store` is the first parameter; `__wasmc_*` names are the generated code's locals.
            let name =
                if named == "store" || named.starts_with("__wasmc") || params.contains(&named) {
                    fallback
                } else {
                    named
                };
            params.push(name);
        }
        let param_list: String = params
            .iter()
            .zip(&ty.params)
            .map(|(n, t)| format!(", {n}: {}", rust_type(*t)))
            .collect();
        let results: Vec<&str> = ty.results.iter().map(|t| rust_type(*t)).collect();
        let ret = tuple(&results);
        let _ = writeln!(
            methods,
            "\n        /// Calls the export {quoted}: `{}`.\n        ///\n        /// # Errors\n        ///\n        /// A trap, or an error a host function returned.\n        pub fn {method}<T: 'static>(&self, store: &mut ::wasmc_loader::Store<T>{param_list}) -> ::core::result::Result<{ret}, ::wasmc_loader::Error> {{",
            signature(ty)
        );
        if typed_func_can(ty) {
            let ptypes: Vec<&str> = ty.params.iter().map(|t| rust_type(*t)).collect();
            let _ = writeln!(
                fields,
                "        f{i}: ::wasmc_loader::TypedFunc<{}, {ret}>,",
                tuple(&ptypes)
            );
            let _ = writeln!(
                init,
                "                f{i}: instance.get_typed_func(store, {quoted})?,"
            );
            let _ = writeln!(
                methods,
                "            self.f{i}.call(store, {})\n        }}",
                tuple(&params.iter().map(String::as_str).collect::<Vec<_>>())
            );
        } else {
            let _ = writeln!(fields, "        f{i}: ::wasmc_loader::Func,");
            let _ = writeln!(
                init,
                "                f{i}: instance.get_func(store, {quoted}).ok_or_else(|| missing({quoted}))?,"
            );
            let vals: Vec<String> = params
                .iter()
                .zip(&ty.params)
                .map(|(n, t)| to_val(*t, n))
                .collect();
            let defaults: Vec<String> = ty
                .results
                .iter()
                .map(|t| {
                    format!("::wasmc_loader::Val::default_for(::wasmc_loader::ValType::{t:?})")
                })
                .collect();
            let _ = writeln!(
                methods,
                "            let mut __wasmc_r = [{}];\n            self.f{i}.call(store, &[{}], &mut __wasmc_r)?;",
                defaults.join(", "),
                vals.join(", ")
            );
            let takes: Vec<String> = ty
                .results
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    format!(
                        "match &__wasmc_r[{k}] {{ {} => {}, other => return Err(mismatch({quoted}, other)) }}",
                        val_pattern(*t),
                        from_val_expr(*t)
                    )
                })
                .collect();
            let value = match takes.as_slice() {
                [one] => one.clone(),
                _ => format!(
                    "({})",
                    takes.iter().map(|t| format!("{t},")).collect::<String>()
                ),
            };
            let _ = writeln!(methods, "            Ok({value})\n        }}");
        }
    }
    let _ = writeln!(
        w,
        r#"
    fn missing(name: &str) -> ::wasmc_loader::Error {{
        ::wasmc_loader::Error::new(::wasmc_loader::ErrorKind::Usage(::std::format!(
            "the instance has no exported function {{name:?}}: not an instance of this module"
        )))
    }}

    fn mismatch(name: &str, got: &::wasmc_loader::Val) -> ::wasmc_loader::Error {{
        ::wasmc_loader::Error::new(::wasmc_loader::ErrorKind::Usage(::std::format!(
            "export {{name:?}} returned a {{}}: not an instance of this module",
            got.ty()
        )))
    }}

    /// The exported functions of one instance of this module, with their types checked
    /// once by [`Exports::new`].
    #[derive(Debug, Clone, Copy)]
    pub struct Exports {{
{fields}    }}

    impl Exports {{
        /// Looks up every exported function of `instance` (an instance of this module).
        ///
        /// # Errors
        ///
        /// A usage error if `instance` lacks one of them or has another type for it.
        pub fn new<T>(store: &::wasmc_loader::Store<T>, instance: &::wasmc_loader::Instance) -> ::core::result::Result<Exports, ::wasmc_loader::Error> {{
            Ok(Exports {{
{init}            }})
        }}
{methods}    }}"#
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_rust_identifiers() {
        assert_eq!(rust_ident("add", "x"), "add");
        assert_eq!(rust_ident("my-func.v2", "x"), "my_func_v2");
        assert_eq!(rust_ident("2x", "x"), "_2x");
        assert_eq!(rust_ident("type", "x"), "type_");
        assert_eq!(rust_ident("", "p0"), "p0");
        assert_eq!(rust_ident("--", "p0"), "p0");
    }
}
