//! Integration tests of the whole AOT path, linked into one test binary (as Wasmtime does):
//! each test compiles inline WAT with `wasmc-compiler`, loads the artifact with
//! `wasmc-loader` and calls into it.
//!
//! - `traps`: one test per trap kind, and the instance keeps working afterwards;
//! - `calls`: every value type as parameter and result, multi-value, typed and untyped calls;
//! - `host`: host -> wasm -> host nesting, traps and host errors crossing it;
//! - `host_objects`: memories, tables, globals shared between host and Wasm; several threads;
//! - `artifact_file`: artifacts written to disk and loaded back with `Artifact::from_file`;
//! - `data_mapping`: large data segments mapped copy-on-write from the artifact file;
//! - `embedding`: renaming and import maps, unknown imports as traps, interrupts and
//!   deadlines, host errors and panics, reactors, threads, instantiate/drop leaks;
//! - `examples`: runs the `examples/` programs and checks their output;
//! - `wasi`: WASI preview1 with the C programs of `tests/wasi/`, the sandbox, the bench corpus;
//! - `targets`: every target produces an object of the right format and architecture.
//!
//! The `wasmc` binary itself is tested in `cli/tests/cli.rs` (only that package can name it).

mod artifact_file;
mod calls;
mod data_mapping;
mod embedding;
mod examples;
mod host;
mod host_objects;
mod limits;
mod targets;
mod traps;
mod wasi;

use wasmc_compiler::{CompileOptions, Compiler};
use wasmc_loader::{Artifact, Instance, Linker, Store};

/// Compiles WAT for the host, in memory.
fn compile(wat: &str) -> Vec<u8> {
    let wasm = wat::parse_str(wat).expect("test WAT parses");
    Compiler::new(&CompileOptions::new())
        .expect("host compiler")
        .compile(&wasm)
        .expect("test module compiles")
}

/// Compiles and loads WAT for the host.
fn load(wat: &str) -> Artifact {
    wasmc_cli::input::compile_and_load(
        &Compiler::new(&CompileOptions::new()).expect("host compiler"),
        &wat::parse_str(wat).expect("test WAT parses"),
    )
    .unwrap_or_else(|e| panic!("{:#}", anyhow::Error::new(e)))
}

/// Compiles, loads and instantiates a module without imports.
fn instantiate(wat: &str) -> (Store<()>, Instance) {
    let artifact = load(wat);
    let mut store = Store::new(());
    let instance = Linker::new()
        .instantiate(&mut store, &artifact)
        .unwrap_or_else(|e| panic!("instantiating: {e}"));
    (store, instance)
}
