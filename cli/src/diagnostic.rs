//! Errors that read like rustc's: what went wrong, where (file, function index and name, byte
//! offset) and a hint, printed by `main` for every failing subcommand:
//!
//! ```text
//! error: invalid module: type mismatch: expected i32, found nothing
//!   --> plugin.wasm: function 3 `process`, byte offset 0x1a2
//!   = note: while compiling plugin.wasm
//!   = hint: ...
//! ```
//!
//! [`SourceError`] is a compile error that knows its file and the function its offset falls in
//! (the compiler's error has only the offset); [`render`] turns any error chain into the text
//! above, taking the most specific message as the headline, the outer contexts as notes, and
//! a hint from the first error in the chain it has one for.

use std::fmt::{self, Write as _};

use wasmc_compiler::{CompileError, WasmFeature};
use wasmc_loader::{ErrorKind, LoadError};

use crate::modinfo::{Location, locate};

/// A compile error with the file it came from and the function its offset falls in.
#[derive(Debug)]
pub struct SourceError {
    /// The input file as the user named it.
    pub file: String,
    /// The compiler's error.
    pub error: CompileError,
    /// The function containing the error's offset, when it is inside a body.
    pub location: Option<Location>,
}

impl SourceError {
    /// Wraps `error`, locating its offset in `wasm` (the binary that was compiled).
    pub fn new(file: &str, wasm: &[u8], error: CompileError) -> SourceError {
        let location = match &error {
            CompileError::Invalid { offset, .. } | CompileError::Unsupported { offset, .. } => {
                locate(wasm, *offset)
            }
            CompileError::Codegen {
                func_index: Some(i),
                ..
            } => Some(Location {
                func_index: *i,
                func_name: None,
            }),
            _ => None,
        };
        SourceError {
            file: file.to_owned(),
            error,
            location,
        }
    }

    /// `file: function 3 `name`, byte offset 0x1a2` (as much of it as is known).
    pub fn where_(&self) -> String {
        let mut s = self.file.clone();
        let mut parts = Vec::new();
        if let Some(loc) = &self.location {
            match &loc.func_name {
                Some(n) => parts.push(format!("function {} `{n}`", loc.func_index)),
                None => parts.push(format!("function {}", loc.func_index)),
            }
        }
        if let CompileError::Invalid { offset, .. } | CompileError::Unsupported { offset, .. } =
            &self.error
        {
            parts.push(format!("byte offset {offset:#x}"));
        }
        if !parts.is_empty() {
            s.push_str(": ");
            s.push_str(&parts.join(", "));
        }
        s
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The offset is in the `-->` line, so the headline does not repeat it.
        match &self.error {
            CompileError::Invalid { message, .. } => write!(f, "invalid module: {message}"),
            CompileError::Unsupported { message, .. } => write!(f, "unsupported: {message}"),
            other => write!(f, "{other}"),
        }
    }
}

impl std::error::Error for SourceError {}

/// The hint for a compile error, if there is a useful one.
fn compile_hint(e: &CompileError) -> Option<String> {
    match e {
        CompileError::Invalid { message, .. } => {
            // `name_disabled_feature` appends "(the `NAME` proposal is switched off)".
            if let Some(name) = message
                .split("(the `")
                .nth(1)
                .and_then(|rest| rest.split_once("` proposal is switched off"))
                .map(|(name, _)| name)
            {
                return Some(format!(
                    "the module uses the `{name}` proposal: switch it on with \
                     `--wasm-feature {name}=on`"
                ));
            }
            let lower = message.to_ascii_lowercase();
            if lower.contains("not enabled") || lower.contains("proposal") {
                let known: Vec<&str> = WasmFeature::ALL.iter().map(|f| f.name()).collect();
                return Some(format!(
                    "the module needs a Wasm proposal wasmc does not compile; wasmc implements \
                     {} (each can be switched with `--wasm-feature NAME=on|off`)",
                    known.join(", ")
                ));
            }
            None
        }
        CompileError::Unsupported { .. } => Some(
            "the module is valid, but wasmc does not compile this yet; `wasmc check` and \
             `wasmc inspect` still work on it"
                .to_owned(),
        ),
        CompileError::Codegen { .. } => {
            Some("this is a bug in wasmc: please report it with the module that triggers it".into())
        }
        CompileError::Target { .. } => Some(
            "supported targets: x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, \
             x86_64-apple-darwin, aarch64-apple-darwin"
                .into(),
        ),
        _ => None,
    }
}

fn load_hint(e: &LoadError) -> Option<String> {
    match e {
        LoadError::Header(_)
        | LoadError::LayoutMismatch { .. }
        | LoadError::WrongTarget { .. }
        | LoadError::MissingCpuFeatures(_)
        | LoadError::MemoryConfig { .. } => Some(
            "the artifact was built by another wasmc version or for another machine: rebuild \
             it from the .wasm with `wasmc build` (for this host, or with --target/--target-cpu \
             matching the machine that runs it)"
                .into(),
        ),
        LoadError::Checksum { .. } | LoadError::MetaHash { .. } | LoadError::Corrupt { .. } => {
            Some("the file was damaged after it was written: rebuild it with `wasmc build`".into())
        }
        LoadError::NotAnArtifact(_) | LoadError::NotAnObject(_) => {
            Some("`wasmc run` takes a .wasm, a .wat or an artifact written by `wasmc build`".into())
        }
        _ => None,
    }
}

fn loader_hint(e: &wasmc_loader::Error) -> Option<String> {
    match e.kind() {
        ErrorKind::Link { module, name, .. } => Some(format!(
            "the host defines no `{module}.{name}` of that type: map the import to one it \
             defines with `--import-map FILE` (docs/EMBEDDING.md), or list every missing \
             import at once with `wasmc check PLUGIN --host MANIFEST`"
        )),
        ErrorKind::Load(l) => load_hint(l),
        ErrorKind::Trap(_) => {
            Some("the wasm backtrace above shows where the trap happened".to_owned())
        }
        _ => None,
    }
}

/// The hint for the first error in the chain that has one.
fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(s) = cause.downcast_ref::<SourceError>() {
            compile_hint(&s.error)
        } else if let Some(c) = cause.downcast_ref::<CompileError>() {
            compile_hint(c)
        } else if let Some(l) = cause.downcast_ref::<wasmc_loader::Error>() {
            loader_hint(l)
        } else if let Some(l) = cause.downcast_ref::<LoadError>() {
            load_hint(l)
        } else {
            None
        }
    })
}

/// Renders an error chain as rustc-style text (ending with a newline): `error:` with the most
/// specific message, `-->` with the location when one is known, a `= note: while ...` per
/// outer context, outermost last, and a `= hint:`.
pub fn render(err: &anyhow::Error) -> String {
    // Some errors repeat their source in their own message; keep each thing once, and keep
    // the longer (outer) wording when it contains the inner one.
    let mut messages: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if messages.last().is_some_and(|prev| prev.contains(&text)) {
            continue;
        }
        messages.push(text);
    }
    let headline = messages.pop().unwrap_or_default();
    let mut out = format!("error: {headline}\n");
    if let Some(s) = err.chain().find_map(|c| c.downcast_ref::<SourceError>()) {
        let _ = writeln!(out, "  --> {}", s.where_());
    }
    for context in messages.iter().rev() {
        let _ = writeln!(out, "  = note: while {context}");
    }
    if let Some(h) = hint(err) {
        let _ = writeln!(out, "  = hint: {h}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn compile_errors_show_file_function_and_offset() {
        let wasm = wat::parse_str(
            r#"(module (func $ok) (func $process (export "process") (result i32) i64.const 1))"#,
        )
        .unwrap();
        let e = wasmc_compiler::compile(&wasm).unwrap_err();
        let err = anyhow::Error::new(SourceError::new("plugin.wasm", &wasm, e))
            .context("compiling plugin.wasm");
        let text = render(&err);
        assert!(
            text.starts_with("error: invalid module: type mismatch"),
            "{text}"
        );
        assert!(
            text.contains("  --> plugin.wasm: function 1 `process`, byte offset 0x"),
            "{text}"
        );
        assert!(
            text.contains("  = note: while compiling plugin.wasm\n"),
            "{text}"
        );
    }

    #[test]
    fn disabled_proposals_get_the_flag_as_hint() {
        let wasm =
            wat::parse_str(r#"(module (func (result v128) v128.const i32x4 0 0 0 0))"#).unwrap();
        let compiler = wasmc_compiler::Compiler::new(
            &wasmc_compiler::CompileOptions::new().wasm_feature(WasmFeature::Simd, false),
        )
        .unwrap();
        let e = compiler.compile(&wasm).unwrap_err();
        let err = anyhow::Error::new(SourceError::new("m.wasm", &wasm, e));
        let text = render(&err);
        assert!(
            text.contains("= hint:") && text.contains("--wasm-feature simd=on"),
            "{text}"
        );
    }

    #[test]
    fn plain_errors_keep_their_contexts_as_notes() {
        let err = Err::<(), _>(anyhow::anyhow!("no such file"))
            .context("reading a.wasm")
            .unwrap_err();
        assert_eq!(
            render(&err),
            "error: no such file\n  = note: while reading a.wasm\n"
        );
    }
}
