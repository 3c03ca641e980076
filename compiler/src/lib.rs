//! `wasmc-compiler`: WebAssembly in, a relocatable ELF or Mach-O object ("artifact") out.
//!
//! The pipeline (see `docs/ARCHITECTURE.md`):
//!
//! 1. `environ` validates the module with wasmparser (the Wasm 2.0 scalar core; SIMD is
//!    recognised but refused) and builds a `ModuleInfo`;
//! 2. `translate` turns each function body into Cranelift IR, reaching every runtime address
//!    through the `vmctx` parameter; `trampolines` adds the entry trampolines, wasm-to-host
//!    trampolines and import stubs;
//! 3. `layout` compiles everything (in parallel) and lays one `.text` blob out with every
//!    call already resolved;
//! 4. `artifact` writes the object: header, metadata, trap table, data and text, with no
//!    relocations and no undefined symbols.
//!
//! ```
//! use wasmc_compiler::{CompileOptions, Compiler, OptLevel, Target};
//!
//! let wasm = wat::parse_str(r#"(module (func (export "id") (param i32) (result i32) local.get 0))"#)?;
//! let opts = CompileOptions::new().target(Target::X86_64Linux).opt_level(OptLevel::Speed);
//! let compiler = Compiler::new(&opts)?;
//! let artifact: Vec<u8> = compiler.compile(&wasm)?;
//! assert!(!artifact.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod artifact;
mod environ;
mod error;
mod isa;
mod layout;
mod trampolines;
mod translate;

pub use error::CompileError;
pub use isa::{MEMORY_GUARD, MEMORY_RESERVATION};
pub use wasmc_abi::Target;

/// How hard Cranelift optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptLevel {
    /// No optimisation: fastest compilation.
    None,
    /// Optimise for speed (the default).
    #[default]
    Speed,
    /// Optimise for speed and code size.
    SpeedAndSize,
}

/// Options of a [`Compiler`]. Setting an option never fails; [`Compiler::new`] validates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileOptions {
    target: Option<Target>,
    opt_level: OptLevel,
    epoch_interruption: bool,
}

impl CompileOptions {
    /// The host target (if supported) and [`OptLevel::Speed`].
    pub fn new() -> CompileOptions {
        CompileOptions {
            target: Target::host(),
            opt_level: OptLevel::Speed,
            epoch_interruption: false,
        }
    }

    /// Compiles for `target`.
    pub fn target(mut self, target: Target) -> CompileOptions {
        self.target = Some(target);
        self
    }

    /// Optimises at `level`.
    pub fn opt_level(mut self, level: OptLevel) -> CompileOptions {
        self.opt_level = level;
        self
    }

    /// Makes the code check the store's epoch deadline at every function entry and loop
    /// header, so the host can interrupt it (`wasmc_loader::increment_epoch`); a passed
    /// deadline traps with `Interrupt`. Off by default: it costs a load and a compare at
    /// each check. The artifact header records it (`abi::metadata::flags`).
    pub fn epoch_interruption(mut self, enable: bool) -> CompileOptions {
        self.epoch_interruption = enable;
        self
    }
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions::new()
    }
}

/// A configured compiler. Cheap to share: it is `Send + Sync` and `compile` takes `&self`.
pub struct Compiler {
    target: Target,
    isa: isa::Isa,
    codegen: translate::CodegenOptions,
}

impl std::fmt::Debug for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiler")
            .field("target", &self.target)
            .field("isa_features", &self.isa.features)
            .finish()
    }
}

impl Compiler {
    /// Sets up Cranelift for the options' target.
    ///
    /// # Errors
    ///
    /// [`CompileError::Target`] when no target was given and the host is not supported, or
    /// Cranelift cannot build the target.
    pub fn new(options: &CompileOptions) -> Result<Compiler, CompileError> {
        let target = options.target.ok_or_else(|| CompileError::Target {
            message: "the host is not a supported target; choose one explicitly".into(),
        })?;
        let isa = isa::build_isa(target, options.opt_level)?;
        let codegen = translate::CodegenOptions {
            epoch_interruption: options.epoch_interruption,
        };
        Ok(Compiler {
            target,
            isa,
            codegen,
        })
    }

    /// The target this compiler produces code for.
    pub fn target(&self) -> Target {
        self.target
    }

    /// Compiles a binary Wasm module into artifact bytes.
    ///
    /// # Errors
    ///
    /// [`CompileError::Invalid`] for bytes that are not a valid module,
    /// [`CompileError::Unsupported`] for valid modules using features wasmc does not compile,
    /// [`CompileError::Codegen`] if Cranelift fails (a wasmc bug).
    pub fn compile(&self, wasm: &[u8]) -> Result<Vec<u8>, CompileError> {
        let mut module = environ::translate_module(wasm)?;
        let bodies = std::mem::take(&mut module.bodies);
        let code = layout::compile_all(&*self.isa.isa, self.codegen, &module, bodies)?;
        artifact::write(self.target, self.isa.features, self.codegen, &module, &code)
    }
}

/// Compiles a binary Wasm module for the host with default options.
///
/// # Errors
///
/// As [`Compiler::new`] and [`Compiler::compile`].
pub fn compile(wasm: &[u8]) -> Result<Vec<u8>, CompileError> {
    Compiler::new(&CompileOptions::new())?.compile(wasm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Compiler>();
    }

    #[test]
    fn options_default_to_the_host_and_speed() {
        let o = CompileOptions::new();
        assert_eq!(o.target, Target::host());
        assert_eq!(o.opt_level, OptLevel::Speed);
    }
}
