//! Precompiling Wasm from a `build.rs`: [`compile_file`] turns a `.wasm` (or `.wat`) file
//! into an artifact in `OUT_DIR`, which the program then embeds with `include_bytes!` and
//! loads with `wasmc_loader::Artifact::from_static`, so no file ships with the program.
//!
//! ```no_run
//! // build.rs
//! let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
//! let artifact = wasmc_compiler::build::compile_file("plugin.wat".as_ref(), &out_dir).unwrap();
//! println!("cargo::rerun-if-changed=plugin.wat");
//! // main.rs: static PLUGIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/plugin.wasmc.o"));
//! # let _ = artifact;
//! ```
//!
//! The artifact is compiled for the target Cargo is building for when it is one wasmc
//! supports (`TARGET` in a build script), otherwise for the host.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::{CompileError, CompileOptions, Compiler, Target};

/// Why [`compile_file`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The input is not valid WebAssembly text.
    Wat {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The module could not be compiled.
    Compile {
        /// The file.
        path: PathBuf,
        /// Why.
        error: CompileError,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            BuildError::Wat { path, message } => write!(f, "{}: {message}", path.display()),
            BuildError::Compile { path, error } => {
                write!(f, "{}: cannot compile: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Io { source, .. } => Some(source),
            BuildError::Compile { error, .. } => Some(error),
            BuildError::Wat { .. } => None,
        }
    }
}

/// The target to build for: Cargo's `TARGET` when a build script runs for a supported one,
/// otherwise the host.
fn build_target() -> Option<Target> {
    let from_cargo = std::env::var("TARGET")
        .ok()
        .and_then(|t| Target::from_triple(&t));
    from_cargo.or_else(Target::host)
}

/// Compiles `input` (`.wasm`, or `.wat` text) with `options` into
/// `out_dir/<file stem>.wasmc.o` and returns that path.
///
/// # Errors
///
/// A [`BuildError`] naming the file: unreadable input, unwritable output, bad WAT, or a
/// compile error.
pub fn compile_file_with(
    input: &Path,
    out_dir: &Path,
    options: &CompileOptions,
) -> Result<PathBuf, BuildError> {
    let bytes = std::fs::read(input).map_err(|source| BuildError::Io {
        path: input.to_path_buf(),
        source,
    })?;
    // Binary modules pass through unchanged; anything else is parsed as text.
    let wasm = wat::parse_bytes(&bytes).map_err(|e| BuildError::Wat {
        path: input.to_path_buf(),
        message: e.to_string(),
    })?;
    let compile_err = |error| BuildError::Compile {
        path: input.to_path_buf(),
        error,
    };
    let artifact = Compiler::new(options)
        .and_then(|c| c.compile(&wasm))
        .map_err(compile_err)?;
    let stem = input
        .file_stem()
        .map_or_else(|| "module".into(), |s| s.to_string_lossy().into_owned());
    let out = out_dir.join(format!("{stem}.wasmc.o"));
    std::fs::write(&out, artifact).map_err(|source| BuildError::Io {
        path: out.clone(),
        source,
    })?;
    Ok(out)
}

/// [`compile_file_with`] with the default options, for Cargo's target (see the module
/// documentation).
///
/// # Errors
///
/// As [`compile_file_with`]; a target error if neither Cargo's target nor the host is one
/// wasmc supports.
pub fn compile_file(input: &Path, out_dir: &Path) -> Result<PathBuf, BuildError> {
    let target = build_target().ok_or_else(|| BuildError::Compile {
        path: input.to_path_buf(),
        error: CompileError::Target {
            message: "neither Cargo's TARGET nor the host is a target wasmc supports".into(),
        },
    })?;
    compile_file_with(input, out_dir, &CompileOptions::new().target(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_wat_and_wasm_files_and_names_bad_ones() {
        let dir = std::env::temp_dir().join(format!("wasmc-build-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wat_path = dir.join("plug.wat");
        std::fs::write(&wat_path, "(module (func (export \"f\")))").unwrap();
        let out = compile_file(&wat_path, &dir).unwrap();
        assert_eq!(out, dir.join("plug.wasmc.o"));
        assert!(std::fs::metadata(&out).unwrap().len() > 0);

        let wasm_path = dir.join("bin.wasm");
        std::fs::write(&wasm_path, wat::parse_str("(module)").unwrap()).unwrap();
        assert!(compile_file(&wasm_path, &dir).is_ok());

        let bad = dir.join("bad.wat");
        std::fs::write(&bad, "(module (func (result i32)))").unwrap();
        let e = compile_file(&bad, &dir).unwrap_err();
        assert!(e.to_string().starts_with(&bad.display().to_string()), "{e}");
        let missing = compile_file(&dir.join("missing.wasm"), &dir).unwrap_err();
        assert!(matches!(missing, BuildError::Io { .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
