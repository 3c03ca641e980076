//! The one shape both engines are measured through ([`Runtime`]), and the generic code that
//! takes one round of samples of a program with any of them ([`sample`]).
//!
//! Keeping the sequence of steps here, once, means wasmc and wasmtime are timed over exactly
//! the same boundaries: whatever one side's `compile` or `instantiate` includes, the other's
//! does too, and the difference is only in the engine calls inside each step.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

/// What a WASI program printed.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr (kept for error messages).
    pub stderr: Vec<u8>,
}

/// How an artifact file is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// The engine's default, with every integrity check it makes.
    Checked,
    /// Without hashing the whole file (wasmc's `from_file_unchecked`), where the engine has
    /// such a mode.
    Unchecked,
}

/// One engine that compiles Wasm ahead of time into an artifact file and runs it.
pub trait Runtime {
    /// A loaded artifact, ready to instantiate many times.
    type Module;
    /// One instance with its own store, WASI context and captured output.
    type Instance;

    /// The name in tables and JSON.
    fn label(&self) -> &str;
    /// The artifact file extension, to tell the files in the scratch directory apart.
    fn extension(&self) -> &str;
    /// Whether [`LoadMode::Unchecked`] is a separate mode of this engine.
    fn has_unchecked_load(&self) -> bool;
    /// Compiles Wasm bytes into artifact bytes.
    fn compile(&self, wasm: &[u8]) -> Result<Vec<u8>>;
    /// Loads an artifact file.
    fn load(&self, path: &Path, mode: LoadMode) -> Result<Self::Module>;
    /// Instantiates `module` with a fresh store and a WASI context whose argv is `argv` and
    /// whose stdout and stderr go to memory.
    fn instantiate(&self, module: &Self::Module, argv: &[String]) -> Result<Self::Instance>;
    /// Runs the instance's `_start` once. A normal return and `proc_exit(0)` are success;
    /// any other exit status or a trap is an error.
    fn run_start(&self, instance: &mut Self::Instance) -> Result<()>;
    /// What the instance printed so far.
    fn output(&self, instance: &Self::Instance) -> Output;
}

/// One round of measurements of one program with one engine, in seconds (size in bytes).
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Wasm bytes to artifact bytes.
    pub compile: f64,
    /// Artifact size in bytes.
    pub size: f64,
    /// Artifact file to loaded module, default (checked) mode.
    pub load: f64,
    /// The same without the whole-file checksum, where the engine has that mode.
    pub load_unchecked: Option<f64>,
    /// Fresh store, WASI context and instance.
    pub instantiate: f64,
    /// `_start` in the first instance of a freshly loaded module (code pages not yet touched).
    pub first_call: f64,
    /// `_start` in a second, fresh instance of the same module.
    pub run: f64,
    /// What each of the two runs printed: first call, then run.
    pub outputs: Vec<Output>,
}

/// Takes one round of samples: compile `wasm`, write the artifact to `scratch`, load it,
/// instantiate it, run `_start` (first call), then run `_start` in a second instance.
///
/// # Errors
///
/// Any step's failure, with the program and step named.
pub fn sample<R: Runtime>(
    rt: &R,
    name: &str,
    wasm: &[u8],
    scratch: &Path,
    argv: &[String],
) -> Result<Sample> {
    let step = |what: &str| format!("{}: {what} {name}", rt.label());

    let t = Instant::now();
    let artifact = rt.compile(wasm).with_context(|| step("compiling"))?;
    let compile = t.elapsed().as_secs_f64();

    // A new file (new inode) every round: an engine may still map the previous one until
    // its module is dropped, and rewriting a mapped file in place is undefined.
    let path = scratch.join(format!("{name}.{}", rt.extension()));
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, &artifact)
        .with_context(|| format!("writing the artifact {}", path.display()))?;
    let size = artifact.len() as f64;
    drop(artifact);

    let t = Instant::now();
    let module = rt
        .load(&path, LoadMode::Checked)
        .with_context(|| step("loading"))?;
    let load = t.elapsed().as_secs_f64();

    // The unchecked load maps the same file a second time, beside the checked module; it is
    // dropped at once and touches no code page, so the first call below stays cold.
    let load_unchecked = if rt.has_unchecked_load() {
        let t = Instant::now();
        let m = rt
            .load(&path, LoadMode::Unchecked)
            .with_context(|| step("loading (unchecked)"))?;
        let secs = t.elapsed().as_secs_f64();
        drop(m);
        Some(secs)
    } else {
        None
    };

    let t = Instant::now();
    let mut first = rt
        .instantiate(&module, argv)
        .with_context(|| step("instantiating"))?;
    let instantiate = t.elapsed().as_secs_f64();

    let t = Instant::now();
    rt.run_start(&mut first)
        .with_context(|| failed_run(rt, &first, &step("running (first call)")))?;
    let first_call = t.elapsed().as_secs_f64();
    let first_output = rt.output(&first);
    drop(first);

    let mut second = rt
        .instantiate(&module, argv)
        .with_context(|| step("instantiating again"))?;
    let t = Instant::now();
    rt.run_start(&mut second)
        .with_context(|| failed_run(rt, &second, &step("running")))?;
    let run = t.elapsed().as_secs_f64();
    let second_output = rt.output(&second);
    drop(second);
    drop(module);

    Ok(Sample {
        compile,
        size,
        load,
        load_unchecked,
        instantiate,
        first_call,
        run,
        outputs: vec![first_output, second_output],
    })
}

/// The context of a failed run: the step, and the tail of what the program printed.
fn failed_run<R: Runtime>(rt: &R, instance: &R::Instance, step: &str) -> String {
    let out = rt.output(instance);
    let tail = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    };
    format!(
        "{step} (stdout: {:?}, stderr: {:?})",
        tail(&out.stdout),
        tail(&out.stderr)
    )
}
