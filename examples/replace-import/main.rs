//! Replacing imports at instantiation (wazero's `WithImportModule`/`WithImport`): a module
//! importing from `wasi_unstable` and a monolithic `env` runs against host functions defined
//! under other names, first with the `Linker`'s rename calls, then with an import map (the
//! file format of `wasmc run --import-map FILE`).
//!
//! ```text
//! cargo run --release --example replace-import
//! ```

use wasmc_loader::{Artifact, Caller, ImportMap, Linker, Store};

const IMPORT_MAP: &str = "\
# old module names -> the ones this host defines
module wasi_unstable = wasi_snapshot_preview1
import env.add = math.add
import env.print_i32 = console.print_i32
";

fn host_functions() -> Result<Linker<()>, wasmc_loader::Error> {
    let mut linker = Linker::new();
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "sched_yield",
        |_: Caller<'_, ()>| {
            println!("wasi_snapshot_preview1::sched_yield called");
            Ok(0i32)
        },
    )?;
    linker.func_wrap("math", "add", |_: Caller<'_, ()>, a: i32, b: i32| Ok(a + b))?;
    linker.func_wrap("console", "print_i32", |_: Caller<'_, ()>, v: i32| {
        println!("console::print_i32 >> {v}");
        Ok(())
    })?;
    Ok(linker)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wasm = wat::parse_str(include_str!("replace-import.wat"))?;
    let bytes = wasmc_compiler::compile(&wasm)?;
    // SAFETY: the bytes come straight from the wasmc compiler.
    #[allow(unsafe_code, reason = "loading the artifact compiled just above")]
    let artifact = unsafe { Artifact::from_bytes(&bytes) }?;
    let mut store = Store::new(());

    // Without renaming, the old names are not defined: a link error, before any code runs.
    let linker = host_functions()?;
    let err = linker.instantiate(&mut store, &artifact).unwrap_err();
    println!("without renaming: {err}");

    // With the Linker's calls: module renames first, then single renames.
    let mut linker = host_functions()?;
    linker
        .rename_module("wasi_unstable", "wasi_snapshot_preview1")
        .rename("env", "add", "math", "add")
        .rename("env", "print_i32", "console", "print_i32");
    let instance = linker.instantiate(&mut store, &artifact)?;
    let run = instance.get_typed_func::<(i32, i32), ()>(&store, "run")?;
    run.call(&mut store, (40, 2))?;

    // The same renames from an import map.
    let map = ImportMap::parse(IMPORT_MAP)?;
    let mut linker = host_functions()?;
    linker.apply_import_map(&map);
    let instance = linker.instantiate(&mut store, &artifact)?;
    let run = instance.get_typed_func::<(i32, i32), ()>(&store, "run")?;
    run.call(&mut store, (20, 3))?;
    Ok(())
}
