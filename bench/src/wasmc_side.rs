//! wasmc behind the [`Runtime`] shape: `wasmc_compiler::Compiler` to compile,
//! `wasmc_loader::Artifact::from_file` to load, the loader's WASI preview1 to run.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use wasmc_compiler::{CompileOptions, Compiler};
use wasmc_loader::wasi::{self, OutputBuffer, WasiCtx, WasiCtxBuilder};
use wasmc_loader::{Artifact, Instance, Linker, Store};

use crate::runtime::{LoadMode, Output, Runtime};

/// wasmc with one set of compile options.
pub struct Wasmc {
    label: String,
    extension: String,
    compiler: Compiler,
    // Built once, as an embedder would: instantiation only resolves imports against it.
    linker: Linker<WasiCtx>,
}

/// One wasmc instance with its store and captured output.
pub struct WasmcInstance {
    store: Store<WasiCtx>,
    instance: Instance,
    stdout: OutputBuffer,
    stderr: OutputBuffer,
}

impl Wasmc {
    /// wasmc with `options`, named `label` in the report; `extension` names its artifact
    /// files.
    pub fn new(label: &str, extension: &str, options: &CompileOptions) -> Result<Wasmc> {
        let compiler = Compiler::new(options).context("setting up the wasmc compiler")?;
        let mut linker = Linker::new();
        wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx);
        Ok(Wasmc {
            label: label.to_owned(),
            extension: extension.to_owned(),
            compiler,
            linker,
        })
    }
}

impl Runtime for Wasmc {
    type Module = Artifact;
    type Instance = WasmcInstance;

    fn label(&self) -> &str {
        &self.label
    }

    fn extension(&self) -> &str {
        &self.extension
    }

    fn has_unchecked_load(&self) -> bool {
        true
    }

    fn compile(&self, wasm: &[u8]) -> Result<Vec<u8>> {
        Ok(self.compiler.compile(wasm)?)
    }

    fn load(&self, path: &Path, mode: LoadMode) -> Result<Artifact> {
        // SAFETY: the file was just written by the wasmc compiler in this process, into a
        // scratch directory nobody else writes, and it is not modified while loaded (each
        // round writes a new file after dropping every module of the previous one).
        let artifact = unsafe {
            match mode {
                LoadMode::Checked => Artifact::from_file(path),
                LoadMode::Unchecked => Artifact::from_file_unchecked(path),
            }
        };
        Ok(artifact?)
    }

    fn instantiate(&self, module: &Artifact, argv: &[String]) -> Result<WasmcInstance> {
        let stdout = OutputBuffer::new();
        let stderr = OutputBuffer::new();
        let ctx = WasiCtxBuilder::new()
            .args(argv)
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build()?;
        let mut store = Store::new(ctx);
        let instance = self.linker.instantiate(&mut store, module)?;
        Ok(WasmcInstance {
            store,
            instance,
            stdout,
            stderr,
        })
    }

    fn run_start(&self, inst: &mut WasmcInstance) -> Result<()> {
        let start = inst
            .instance
            .get_func(&inst.store, "_start")
            .ok_or_else(|| anyhow!("the module exports no `_start`"))?;
        match start.call(&mut inst.store, &[], &mut []) {
            Ok(()) => Ok(()),
            Err(e) => match e.exit_code() {
                Some(0) => Ok(()),
                Some(status) => bail!("the program exited with status {status}"),
                None => Err(e.into()),
            },
        }
    }

    fn output(&self, inst: &WasmcInstance) -> Output {
        Output {
            stdout: inst.stdout.contents(),
            stderr: inst.stderr.contents(),
        }
    }
}
