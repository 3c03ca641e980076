//! `wasmc-compiler`: WebAssembly in, a relocatable ELF or Mach-O object ("artifact") out.
//!
//! The pipeline (see `docs/ARCHITECTURE.md`):
//!
//! 1. `environ` validates the module with wasmparser (Wasm 2.0 with SIMD, plus the
//!    proposals switched on in the options: relaxed SIMD, tail calls, extended constants,
//!    multi-memory, memory64; see [`WasmFeature`]) and builds a `ModuleInfo`;
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
pub mod build;
mod control;
mod environ;
mod error;
mod isa;
mod layout;
mod trampolines;
mod translate;

pub use control::{CompileControl, PHASES, PhaseFn, ProgressFn};
pub use environ::WasmFeature;
pub use error::CompileError;
pub use isa::{CpuLevel, MEMORY_GUARD, MEMORY_RESERVATION};
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
    interrupt_by_signal: Option<bool>,
    consume_fuel: bool,
    features: environ::FeatureSet,
    cpu: CpuLevel,
    link_prefix: Option<String>,
}

impl CompileOptions {
    /// The host target (if supported) and [`OptLevel::Speed`].
    pub fn new() -> CompileOptions {
        CompileOptions {
            target: Target::host(),
            opt_level: OptLevel::Speed,
            epoch_interruption: true,
            interrupt_by_signal: None,
            consume_fuel: false,
            features: environ::FeatureSet::all(),
            cpu: CpuLevel::Baseline,
            link_prefix: None,
        }
    }

    /// Switches proposal `feature` on or off. Every proposal wasmc implements is on by
    /// default; a module using one that is off is refused as invalid, with a message naming
    /// it. `simd` off also switches `relaxed-simd` off.
    pub fn wasm_feature(mut self, feature: WasmFeature, enabled: bool) -> CompileOptions {
        self.features.set(feature, enabled);
        self
    }

    /// Whether proposal `feature` is on.
    pub fn has_wasm_feature(&self, feature: WasmFeature) -> bool {
        self.features.has(feature)
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

    /// Which CPU features the code may assume (default [`CpuLevel::Baseline`]). They are
    /// recorded in the artifact, and a host without them refuses to load it.
    pub fn cpu(mut self, level: CpuLevel) -> CompileOptions {
        self.cpu = level;
        self
    }

    /// Makes the code stoppable from outside (deadlines, interrupt handles,
    /// `wasmc_loader::increment_epoch`); a stopped call traps with `Interrupt`. Function
    /// entries are stopped through the prologue's stack-limit check, which the loader makes
    /// fail; loops are stopped by a signal or by a check at every loop header (see
    /// [`CompileOptions::interrupt_by_signal`]). On by default; `epoch_interruption(false)`
    /// makes code that is only ever stopped at function entries.
    /// The artifact header records it (`abi::metadata::flags`).
    pub fn epoch_interruption(mut self, enable: bool) -> CompileOptions {
        self.epoch_interruption = enable;
        self
    }

    /// How interruptible code is stopped inside a loop. `true`: the loader signals the
    /// thread running the store and sends it to the trap path from wherever it is in a Wasm
    /// function body, so loops carry no code for it at all. `false`: every loop header loads
    /// the store's interrupt word and branches on it (one load and a branch per iteration,
    /// 3 % on the benchmark corpus, up to 10 % on tiny loops). The default is `true` for
    /// Linux targets and `false` for macOS, where the signal path is not implemented. Setting
    /// `true` for a macOS target is refused by [`Compiler::new`].
    pub fn interrupt_by_signal(mut self, enable: bool) -> CompileOptions {
        self.interrupt_by_signal = Some(enable);
        self
    }

    /// Makes the code count fuel: every operator that does work costs one unit (structural
    /// ones such as `block`, `end`, `nop` are free), and at every function entry and loop
    /// header code whose store has spent its fuel traps with `OutOfFuel`. The host sets the
    /// budget with `wasmc_loader::Store::set_fuel` (a store starts with none) and reads it
    /// with `get_fuel`. Off by default: it keeps a counter in a register and writes it back
    /// around calls, which costs time (docs/EMBEDDING.md gives numbers). The artifact header
    /// records it (`abi::metadata::flags::FUEL`); how the counting works is in
    /// `translate/fuel.rs`.
    pub fn consume_fuel(mut self, enable: bool) -> CompileOptions {
        self.consume_fuel = enable;
        self
    }

    /// Makes the artifact linkable into a native program by the system linker
    /// (docs/STATIC_LINKING.md): it gains a `.wasmc.image` section (header, metadata, trap
    /// table and data once more, in one allocated blob) and the global symbols
    /// `<prefix>_text`, `<prefix>_text_end`, `<prefix>_image`, `<prefix>_image_end`
    /// (`wasmc_abi::obj::LinkSymbols`), which `wasmc_loader::Artifact::from_linked` takes.
    /// The prefix keeps two artifacts in one program apart; it must be a C identifier of at
    /// most 64 bytes (`wasmc_abi::obj::is_link_prefix`), which [`Compiler::new`] checks.
    /// `None` (the default) writes a plain artifact. The object stays loadable with
    /// `Artifact::from_file`/`from_bytes` either way.
    pub fn link_prefix(mut self, prefix: Option<&str>) -> CompileOptions {
        self.link_prefix = prefix.map(str::to_string);
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
    link_prefix: Option<String>,
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
        if let Some(p) = options
            .link_prefix
            .as_deref()
            .filter(|p| !wasmc_abi::obj::is_link_prefix(p))
        {
            return Err(CompileError::Target {
                message: format!(
                    "link prefix {p:?} is not a C identifier of at most {} bytes",
                    wasmc_abi::obj::MAX_LINK_PREFIX_LEN
                ),
            });
        }
        let isa = isa::build_isa(target, options.opt_level, options.cpu)?;
        let by_signal = options.interrupt_by_signal.unwrap_or(!target.is_macho());
        if by_signal && target.is_macho() {
            return Err(CompileError::Target {
                message: format!(
                    "interruption by signal is implemented for Linux only, not {}",
                    target.triple()
                ),
            });
        }
        let codegen = translate::CodegenOptions {
            epoch_interruption: options.epoch_interruption,
            signal_interruption: options.epoch_interruption && by_signal,
            consume_fuel: options.consume_fuel,
            features: options.features,
        };
        Ok(Compiler {
            target,
            isa,
            codegen,
            link_prefix: options.link_prefix.clone(),
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
        self.compile_with(wasm, &CompileControl::new())
    }

    /// [`Compiler::compile`] under a [`CompileControl`]: cancellable from another thread
    /// (then [`CompileError::Cancelled`]) and reporting progress per compiled function.
    ///
    /// # Errors
    ///
    /// As [`Compiler::compile`], plus [`CompileError::Cancelled`].
    pub fn compile_with(
        &self,
        wasm: &[u8],
        control: &CompileControl,
    ) -> Result<Vec<u8>, CompileError> {
        control.check()?;
        let start = std::time::Instant::now();
        let mut module = environ::translate_module(wasm, self.codegen.features)?;
        let start = control.phase_done("validate", start);
        let bodies = std::mem::take(&mut module.bodies);
        let code = layout::compile_all_with(&*self.isa.isa, self.codegen, &module, bodies, control)
            .map_err(|e| environ::name_disabled_feature(wasm, self.codegen.features, e))?;
        let start = control.phase_done("codegen", start);
        control.check()?;
        let artifact = artifact::write(
            self.target,
            self.isa.features,
            self.codegen,
            &module,
            &code,
            self.link_prefix.as_deref(),
        )?;
        control.phase_done("emit", start);
        Ok(artifact)
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
