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
//!
//! [`link_file`] goes one step further (docs/STATIC_LINKING.md): it compiles a *linkable*
//! artifact, has Cargo pass it to the system linker (`cargo::rustc-link-arg`), and writes
//! typed Rust bindings (`OUT_DIR/<prefix>.rs`, see `build/bindings.rs`) that load the
//! linked code in place with `wasmc_loader::Artifact::from_linked`:
//!
//! ```no_run
//! // build.rs
//! wasmc_compiler::build::link_file("plugin.wat".as_ref()).unwrap();
//! // main.rs: include!(concat!(env!("OUT_DIR"), "/plugin.rs"));
//! //          let artifact = plugin::artifact()?;
//! //          ... let exports = plugin::Exports::new(&store, &instance)?;
//! //          exports.add(&mut store, 1, 2)?;
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::{CompileError, CompileOptions, Compiler, Target};

mod bindings;

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
    /// A link prefix that cannot start a symbol (see `wasmc_abi::obj::is_link_prefix`).
    Prefix {
        /// The prefix given.
        prefix: String,
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
            BuildError::Prefix { prefix } => write!(
                f,
                "link prefix {prefix:?} is not a C identifier of at most {} bytes",
                wasmc_abi::obj::MAX_LINK_PREFIX_LEN
            ),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Io { source, .. } => Some(source),
            BuildError::Compile { error, .. } => Some(error),
            BuildError::Wat { .. } | BuildError::Prefix { .. } => None,
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
    let (_, artifact) = compile_input(input, options)?;
    let stem = input
        .file_stem()
        .map_or_else(|| "module".into(), |s| s.to_string_lossy().into_owned());
    let out = out_dir.join(format!("{stem}.wasmc.o"));
    write_file(&out, &artifact)?;
    Ok(out)
}

/// Reads `input` (`.wasm` or `.wat`) and compiles it: `(wasm, artifact)`.
fn compile_input(input: &Path, options: &CompileOptions) -> Result<(Vec<u8>, Vec<u8>), BuildError> {
    let bytes = std::fs::read(input).map_err(|source| BuildError::Io {
        path: input.to_path_buf(),
        source,
    })?;
    // Binary modules pass through unchanged; anything else is parsed as text.
    let wasm = wat::parse_bytes(&bytes)
        .map_err(|e| BuildError::Wat {
            path: input.to_path_buf(),
            message: e.to_string(),
        })?
        .into_owned();
    let artifact = Compiler::new(options)
        .and_then(|c| c.compile(&wasm))
        .map_err(|error| BuildError::Compile {
            path: input.to_path_buf(),
            error,
        })?;
    Ok((wasm, artifact))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    std::fs::write(path, bytes).map_err(|source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// What [`link_file_with`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedModule {
    /// The linkable artifact, `<out_dir>/<prefix>.wasmc.o`: pass it to the linker.
    pub object: PathBuf,
    /// The Rust bindings, `<out_dir>/<prefix>.rs`: `include!` them. They define
    /// `pub mod <prefix>` (a `_` appended when the prefix is a Rust keyword).
    pub bindings: PathBuf,
    /// The link prefix of the object's symbols.
    pub prefix: String,
}

/// Compiles `input` (`.wasm` or `.wat`) with `options` into a linkable artifact with link
/// prefix `prefix` (default: the file stem made a C identifier,
/// `wasmc_abi::obj::link_prefix_from_stem`), and writes its Rust bindings next to it. Prints
/// nothing: [`link_file`] is the build-script entry point that also tells Cargo to link it.
///
/// # Errors
///
/// As [`compile_file_with`], and [`BuildError::Prefix`] for a prefix that is not a C
/// identifier.
pub fn link_file_with(
    input: &Path,
    out_dir: &Path,
    options: &CompileOptions,
    prefix: Option<&str>,
) -> Result<LinkedModule, BuildError> {
    let prefix = match prefix {
        Some(p) if wasmc_abi::obj::is_link_prefix(p) => p.to_string(),
        Some(p) => {
            return Err(BuildError::Prefix {
                prefix: p.to_string(),
            });
        }
        None => wasmc_abi::obj::link_prefix_from_stem(
            &input
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
        ),
    };
    let options = options.clone().link_prefix(Some(&prefix));
    let (wasm, artifact) = compile_input(input, &options)?;
    let meta = read_metadata(&artifact).map_err(|error| BuildError::Compile {
        path: input.to_path_buf(),
        error,
    })?;
    let source = input.file_name().map_or_else(
        || input.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let rust = bindings::generate(&meta, &wasm, &prefix, &source);
    let object = out_dir.join(format!("{prefix}.wasmc.o"));
    let bindings = out_dir.join(format!("{prefix}.rs"));
    write_file(&object, &artifact)?;
    write_file(&bindings, rust.as_bytes())?;
    Ok(LinkedModule {
        object,
        bindings,
        prefix,
    })
}

/// The metadata of an artifact this compiler just wrote (for the bindings: the exported
/// types exactly as the loader will check them).
fn read_metadata(artifact: &[u8]) -> Result<wasmc_abi::ModuleMetadata, CompileError> {
    use object::{Object as _, ObjectSection as _};
    let bad =
        |what: String| CompileError::codegen(None, format!("reading the artifact back: {what}"));
    let file = object::File::parse(artifact).map_err(|e| bad(e.to_string()))?;
    let (seg, sect) = wasmc_abi::obj::macho_section(wasmc_abi::obj::META_SECTION)
        .ok_or_else(|| bad("no Mach-O metadata section name".into()))?;
    let section = file
        .sections()
        .find(|s| {
            s.name() == Ok(wasmc_abi::obj::META_SECTION)
                || (s.name() == Ok(sect) && s.segment_name() == Ok(Some(seg)))
        })
        .ok_or_else(|| bad("no metadata section".into()))?;
    let bytes = section.data().map_err(|e| bad(e.to_string()))?;
    wasmc_abi::ModuleMetadata::decode(bytes).map_err(|e| bad(e.to_string()))
}

/// The build-script entry point of static linking: compiles `input` for Cargo's `TARGET`
/// into a linkable artifact in `OUT_DIR` ([`link_file_with`], default prefix from the file
/// stem), and prints the Cargo directives that link it into this package's binaries, tests
/// and examples (`cargo::rustc-link-arg=<object>`) and rebuild when `input` changes. The
/// program then `include!`s `OUT_DIR/<prefix>.rs`.
///
/// `rustc-link-arg` reaches the binaries, tests, examples and benches of the package whose
/// build script calls this, not the packages depending on it: call it from the build script
/// of the package that builds the executable.
///
/// # Errors
///
/// As [`link_file_with`]; also when `OUT_DIR` is not set (not in a build script) or Cargo's
/// `TARGET` is one wasmc cannot compile for (unlike [`compile_file`], there is no fallback
/// to the host: the object could not be linked into a program for another target).
pub fn link_file(input: &Path) -> Result<LinkedModule, BuildError> {
    let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| BuildError::Io {
        path: input.to_path_buf(),
        source: std::io::Error::other("OUT_DIR is not set: link_file runs in a build script"),
    })?;
    let target = match std::env::var("TARGET") {
        Ok(triple) => Target::from_triple(&triple).ok_or_else(|| BuildError::Compile {
            path: input.to_path_buf(),
            error: CompileError::Target {
                message: format!("wasmc cannot compile for Cargo's target {triple}"),
            },
        })?,
        Err(_) => build_target().ok_or_else(|| BuildError::Compile {
            path: input.to_path_buf(),
            error: CompileError::Target {
                message: "the host is not a target wasmc supports".into(),
            },
        })?,
    };
    let linked = link_file_with(
        input,
        Path::new(&out_dir),
        &CompileOptions::new().target(target),
        None,
    )?;
    println!("cargo::rerun-if-changed={}", input.display());
    println!("cargo::rustc-link-arg={}", linked.object.display());
    Ok(linked)
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

    #[test]
    fn link_file_with_writes_a_linkable_object_and_bindings() {
        use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
        let dir = std::env::temp_dir().join(format!("wasmc-link-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wat_path = dir.join("my-plug.wat");
        std::fs::write(
            &wat_path,
            r#"(module
                (import "env" "tick" (func (param i64)))
                (memory (export "mem") 1)
                (data (i32.const 0) "hello")
                (func (export "add") (param $a i32) (param $b i32) (result i32)
                    (i32.add (local.get $a) (local.get $b)))
                (func (export "type") (param f32 v128 externref) (result funcref f64)
                    ref.null func f64.const 1))"#,
        )
        .unwrap();
        let linked = link_file_with(&wat_path, &dir, &CompileOptions::new(), None).unwrap();
        assert_eq!(linked.prefix, "my_plug");
        assert_eq!(linked.object, dir.join("my_plug.wasmc.o"));
        let rust = std::fs::read_to_string(&linked.bindings).unwrap();
        for want in [
            "pub mod my_plug {",
            "#[link_name = \"my_plug_text\"]",
            "#[link_name = \"my_plug_image_end\"]",
            "/// - `env::tick`: function (i64) -> ()",
            "pub fn add<T: 'static>(&self, store: &mut ::wasmc_loader::Store<T>, a: i32, b: i32) \
             -> ::core::result::Result<i32, ::wasmc_loader::Error>",
            // A keyword export name, reference types: the untyped path.
            "pub fn type_<T: 'static>(",
            "p2: ::core::option::Option<::wasmc_loader::ExternRef>",
        ] {
            assert!(rust.contains(want), "missing {want:?} in\n{rust}");
        }

        // The object: global symbols on text and image, the image equal to the sections.
        let bytes = std::fs::read(&linked.object).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let syms = wasmc_abi::obj::LinkSymbols::new("my_plug");
        for name in [&syms.text, &syms.text_end, &syms.image, &syms.image_end] {
            let sym = file
                .symbols()
                .find(|s| {
                    s.name()
                        .is_ok_and(|n| n.trim_start_matches('_') == name.trim_start_matches('_'))
                })
                .unwrap_or_else(|| panic!("no symbol {name}"));
            assert!(sym.is_global() && sym.is_definition(), "{name}");
        }
        let section = |name| {
            let (seg, sect) = wasmc_abi::obj::macho_section(name).unwrap();
            file.sections()
                .find(|s| {
                    s.name() == Ok(name)
                        || (s.name() == Ok(sect) && s.segment_name() == Ok(Some(seg)))
                })
                .and_then(|s| s.data().ok())
                .unwrap_or(&[])
        };
        let image =
            wasmc_abi::obj::ImageParts::decode(section(wasmc_abi::obj::IMAGE_SECTION)).unwrap();
        assert_eq!(image.header, section(wasmc_abi::obj::HEADER_SECTION));
        assert_eq!(image.meta, section(wasmc_abi::obj::META_SECTION));
        assert_eq!(image.traps, section(wasmc_abi::obj::TRAPS_SECTION));
        assert_eq!(image.data, section(wasmc_abi::obj::DATA_SECTION));
        assert_eq!(
            image.text_len,
            section(wasmc_abi::obj::TEXT_SECTION).len() as u64
        );
        // The header symbol is local, so two linked artifacts cannot clash on it.
        let header_sym = file
            .symbols()
            .find(|s| {
                s.name()
                    .is_ok_and(|n| n.ends_with(wasmc_abi::obj::HEADER_SYMBOL))
            })
            .unwrap();
        assert!(header_sym.is_local());

        // The same module without a prefix: no image, no global symbols but the header's.
        let plain = compile_file_with(&wat_path, &dir, &CompileOptions::new()).unwrap();
        let plain_bytes = std::fs::read(&plain).unwrap();
        let plain_file = object::File::parse(&*plain_bytes).unwrap();
        assert_eq!(plain_file.symbols().filter(|s| s.is_global()).count(), 1);
        assert!(plain_bytes.len() < bytes.len());

        let e =
            link_file_with(&wat_path, &dir, &CompileOptions::new(), Some("no-dash")).unwrap_err();
        assert!(matches!(e, BuildError::Prefix { .. }), "{e}");
        assert!(e.to_string().contains("C identifier"), "{e}");
        let e = Compiler::new(&CompileOptions::new().link_prefix(Some("9lives"))).unwrap_err();
        assert!(e.to_string().contains("9lives"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every target writes the image and the four symbols (Mach-O with its leading `_`), and
    /// still no relocation.
    #[test]
    fn every_target_writes_a_linkable_object() {
        use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
        let wasm =
            wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
        for target in Target::ALL {
            let opts = CompileOptions::new().target(target).link_prefix(Some("p"));
            let bytes = Compiler::new(&opts).unwrap().compile(&wasm).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            let mangle = if target.is_macho() { "_" } else { "" };
            let syms = wasmc_abi::obj::LinkSymbols::new("p");
            for name in [syms.text, syms.text_end, syms.image, syms.image_end] {
                let want = format!("{mangle}{name}");
                assert!(
                    file.symbols()
                        .any(|s| s.name() == Ok(want.as_str()) && s.is_global()),
                    "{target}: no global {want}"
                );
            }
            assert!(
                file.sections().all(|s| s.relocations().next().is_none()),
                "{target}"
            );
        }
    }
}
