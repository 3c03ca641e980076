//! wasmtime behind the [`Runtime`] shape: `Engine::precompile_module` to compile,
//! `Module::deserialize_file` to load, `wasmtime-wasi`'s preview1 to run.

use std::path::Path;

use anyhow::{Context, Result, bail};
// wasmtime 48 has its own `wasmtime::Error`; `?` and `anyhow::Error::from` convert it.
use wasmtime::{Config, Engine, Instance, Linker, Module, OptLevel, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use crate::runtime::{LoadMode, Output, Runtime};

/// The release of the `wasmtime` crate linked in (pinned with `=` in Cargo.toml).
pub const VERSION: &str = "48.0.8";

/// The most output kept per stream; the benchmark programs print a few lines.
const OUTPUT_CAPACITY: usize = 1 << 20;

/// wasmtime with `Config::default()` at `OptLevel::Speed`.
pub struct Wasmtime {
    engine: Engine,
    linker: Linker<WasiP1Ctx>,
}

/// One wasmtime instance with its store and captured output.
pub struct WasmtimeInstance {
    store: Store<WasiP1Ctx>,
    instance: Instance,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl Wasmtime {
    /// The default configuration at `OptLevel::Speed`; `parallel` false compiles on the
    /// calling thread only (for the thread-scaling measurement).
    pub fn new(parallel: bool) -> Result<Wasmtime> {
        let mut config = Config::default();
        config.cranelift_opt_level(OptLevel::Speed);
        config.parallel_compilation(parallel);
        let engine = Engine::new(&config)
            .map_err(anyhow::Error::from)
            .context("setting up the wasmtime engine")?;
        // Built once, as an embedder would: instantiation only resolves imports against it.
        let mut linker = Linker::new(&engine);
        p1::add_to_linker_sync(&mut linker, |ctx: &mut WasiP1Ctx| ctx)
            .map_err(anyhow::Error::from)
            .context("adding WASI preview1 to the wasmtime linker")?;
        Ok(Wasmtime { engine, linker })
    }
}

impl Runtime for Wasmtime {
    type Module = Module;
    type Instance = WasmtimeInstance;

    fn label(&self) -> &str {
        "wasmtime"
    }

    fn extension(&self) -> &str {
        "cwasm"
    }

    fn has_unchecked_load(&self) -> bool {
        false
    }

    fn compile(&self, wasm: &[u8]) -> Result<Vec<u8>> {
        Ok(self.engine.precompile_module(wasm)?)
    }

    fn load(&self, path: &Path, _mode: LoadMode) -> Result<Module> {
        // SAFETY: the file was just written by `precompile_module` of this engine, into a
        // scratch directory nobody else writes, and it is not modified while loaded.
        Ok(unsafe { Module::deserialize_file(&self.engine, path) }?)
    }

    fn instantiate(&self, module: &Module, argv: &[String]) -> Result<WasmtimeInstance> {
        let stdout = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let stderr = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let ctx = WasiCtxBuilder::new()
            .args(argv)
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build_p1();
        let mut store = Store::new(&self.engine, ctx);
        let instance = self.linker.instantiate(&mut store, module)?;
        Ok(WasmtimeInstance {
            store,
            instance,
            stdout,
            stderr,
        })
    }

    fn run_start(&self, inst: &mut WasmtimeInstance) -> Result<()> {
        let start = inst
            .instance
            .get_typed_func::<(), ()>(&mut inst.store, "_start")?;
        match start.call(&mut inst.store, ()) {
            Ok(()) => Ok(()),
            Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(wasmtime_wasi::I32Exit(0)) => Ok(()),
                Some(wasmtime_wasi::I32Exit(status)) => {
                    bail!("the program exited with status {status}")
                }
                None => Err(e.into()),
            },
        }
    }

    fn output(&self, inst: &WasmtimeInstance) -> Output {
        Output {
            stdout: inst.stdout.contents().to_vec(),
            stderr: inst.stderr.contents().to_vec(),
        }
    }
}
