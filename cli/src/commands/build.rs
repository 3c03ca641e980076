//! `wasmc build`: compile a `.wasm` or `.wat` file into an artifact (a relocatable ELF or
//! Mach-O object) that `wasmc run` or an embedder using `wasmc-loader` can run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use wasmc_cli::diagnostic::SourceError;
use wasmc_compiler::{
    CompileControl, CompileOptions, Compiler, CpuLevel, OptLevel, Target, WasmFeature,
};

use super::timings::Timings;

/// Compile a Wasm module ahead of time into a native object file (an "artifact").
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  wasmc build examples/fib.wat -o fib.wasmc.o
  wasmc build app.wasm                       # writes app.wasmc.o
  wasmc build app.wasm --target aarch64-apple-darwin -O speed_and_size -o app-mac.o

Wasm features (proposals), all on by default: simd, relaxed-simd, tail-call, extended-const,
multi-memory, memory64. `--wasm-feature simd=off` switches one off (repeat the flag for
several); a module that uses a switched-off proposal is refused with a message naming it.

Targets: x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, x86_64-apple-darwin,
aarch64-apple-darwin (short forms like `aarch64-linux` and `x86_64-macos` work too).
Only artifacts for the host can be run here; the others are for another machine.")]
pub struct BuildCommand {
    /// The module to compile: a Wasm binary or WAT text (recognised by content).
    pub input: PathBuf,

    /// Where to write the artifact [default: INPUT with its extension replaced by `.wasmc.o`].
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// The target triple to compile for [default: the host].
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,

    #[command(flatten)]
    pub compile: CompileArgs,

    /// Count fuel in the code, so `wasmc run --fuel N` (or `Store::set_fuel`) can bound how
    /// much work it does. Costs speed; recorded in the artifact.
    #[arg(long)]
    pub consume_fuel: bool,

    /// Print how long each phase took (read, parse, validate, codegen, emit, write) on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// The compile flags `build` and `run` share. Every one of them is part of the cache key of
/// `wasmc run` (through `CompileOptions`' `Debug` form).
#[derive(Debug, Clone, Args)]
pub struct CompileArgs {
    /// How hard to optimise.
    #[arg(short = 'O', long = "opt-level", value_enum, default_value_t = Opt::Speed)]
    pub opt_level: Opt,

    /// Switch a Wasm proposal on or off: `NAME=on|off` (a bare `NAME` means on).
    #[arg(long = "wasm-feature", value_name = "NAME=on|off", value_parser = parse_feature)]
    pub wasm_features: Vec<(WasmFeature, bool)>,

    /// CPU features the code may assume: `baseline` (x86-64-v2), `x86-64-v3` (AVX2, BMI,
    /// FMA) or `native` (v3 if this machine has it). Recorded in the artifact; a host without
    /// them refuses to load it. Default: `baseline` for `build` (artifacts that run on any
    /// x86-64 machine of the last fifteen years), `native` for `run` (code compiled to run
    /// here and now, as wasmtime does).
    #[arg(long = "target-cpu", value_enum)]
    pub target_cpu: Option<Cpu>,

    /// How a running loop is stopped (by `--timeout`, a deadline or an interrupt): `signal`
    /// (the loader signals the thread with SIGURG; the loops carry no code for it) or `check`
    /// (a load and a branch at every loop header, for hosts that need SIGURG for themselves).
    /// Default: `signal` on Linux targets, `check` on macOS. Recorded in the artifact.
    #[arg(long = "interrupt", value_enum)]
    pub interrupt: Option<Interrupt>,
}

/// How loops are stopped (`--interrupt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Interrupt {
    Signal,
    Check,
}

impl CompileArgs {
    /// The compiler options these flags ask for (for the host target), with `default_cpu`
    /// when `--target-cpu` was not given.
    pub fn options(&self, default_cpu: Cpu) -> CompileOptions {
        let mut options = CompileOptions::new()
            .opt_level(self.opt_level.into())
            .cpu(self.target_cpu.unwrap_or(default_cpu).into());
        for (feature, enabled) in &self.wasm_features {
            options = options.wasm_feature(*feature, *enabled);
        }
        if let Some(how) = self.interrupt {
            options = options.interrupt_by_signal(how == Interrupt::Signal);
        }
        options
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cpu {
    Baseline,
    #[value(name = "x86-64-v3")]
    X86_64V3,
    Native,
}

impl From<Cpu> for CpuLevel {
    fn from(c: Cpu) -> CpuLevel {
        match c {
            Cpu::Baseline => CpuLevel::Baseline,
            Cpu::X86_64V3 => CpuLevel::X86_64V3,
            Cpu::Native => CpuLevel::Native,
        }
    }
}

/// Parses `NAME`, `NAME=on` or `NAME=off` (also `true/false`, `yes/no`, `1/0`).
fn parse_feature(arg: &str) -> Result<(WasmFeature, bool), String> {
    let (name, value) = arg.split_once('=').unwrap_or((arg, "on"));
    let feature: WasmFeature = name.trim().parse()?;
    let enabled = match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => true,
        "off" | "false" | "no" | "0" => false,
        other => return Err(format!("`{other}` is not on or off (in `{arg}`)")),
    };
    Ok((feature, enabled))
}

/// `-O` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Opt {
    /// No optimisation (fastest compile).
    None,
    /// Optimise for speed.
    Speed,
    /// Optimise for speed and code size.
    SpeedAndSize,
}

impl From<Opt> for OptLevel {
    fn from(o: Opt) -> OptLevel {
        match o {
            Opt::None => OptLevel::None,
            Opt::Speed => OptLevel::Speed,
            Opt::SpeedAndSize => OptLevel::SpeedAndSize,
        }
    }
}

impl BuildCommand {
    /// Compiles `input` and writes the artifact.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let begin = Instant::now();
        let timings = Timings::new(self.verbose);
        let mut options = self
            .compile
            .options(Cpu::Baseline)
            .consume_fuel(self.consume_fuel);
        if let Some(triple) = &self.target {
            let target = Target::from_triple(triple).with_context(|| {
                let known: Vec<&str> = Target::ALL.iter().map(|t| t.triple()).collect();
                format!(
                    "unsupported target `{triple}` (supported: {})",
                    known.join(", ")
                )
            })?;
            options = options.target(target);
        }
        let compiler = Compiler::new(&options).context("setting up the compiler")?;

        let name = self.input.display().to_string();
        let start = Instant::now();
        let source = std::fs::read(&self.input).with_context(|| format!("reading {name}"))?;
        let start = timings.since("read", start);
        let wasm = wasmc_cli::input::wasm_from_source(&source, &name)?;
        timings.since("parse", start);
        let bar = progress_bar();
        let control = {
            let bar = bar.clone();
            CompileControl::new().on_progress(move |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
        };
        let compiled = compiler.compile_with(&wasm, &timings.watch(control));
        bar.finish_and_clear();
        let artifact = compiled
            .map_err(|e| SourceError::new(&name, &wasm, e))
            .with_context(|| format!("compiling {name}"))?;

        let output = self
            .output
            .clone()
            .unwrap_or_else(|| default_output(&self.input));
        let start = Instant::now();
        std::fs::write(&output, &artifact)
            .with_context(|| format!("writing {}", output.display()))?;
        timings.since("write", start);
        timings.total(begin);
        Ok(ExitCode::SUCCESS)
    }
}

/// A bar of compiled functions on stderr when it is a terminal; nothing otherwise (in CI logs,
/// pipes and tests). Fed by the compiler's progress callback from its worker threads.
fn progress_bar() -> ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("compiling {bar:40} {pos}/{len} functions ({elapsed})")
    {
        bar.set_style(style);
    }
    bar
}

/// `dir/app.wasm` -> `dir/app.wasmc.o`.
fn default_output(input: &Path) -> PathBuf {
    input.with_extension("wasmc.o")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_output_replaces_the_extension() {
        assert_eq!(
            default_output(Path::new("dir/app.wasm")),
            Path::new("dir/app.wasmc.o")
        );
        assert_eq!(default_output(Path::new("fib")), Path::new("fib.wasmc.o"));
    }

    #[test]
    fn feature_flags_parse() {
        assert_eq!(parse_feature("simd=off"), Ok((WasmFeature::Simd, false)));
        assert_eq!(
            parse_feature("tail_call"),
            Ok((WasmFeature::TailCall, true))
        );
        assert_eq!(
            parse_feature("Memory64=ON"),
            Ok((WasmFeature::Memory64, true))
        );
        let bad = parse_feature("gc=on").unwrap_err();
        assert!(bad.contains("unknown Wasm feature `gc`"), "{bad}");
        assert!(parse_feature("simd=maybe").is_err());
    }
}
