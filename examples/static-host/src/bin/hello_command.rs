//! A WASI command as one native executable: `build.rs` linked `hello.wat`'s artifact into
//! this binary, and this `main` is the whole runtime around it (the recipe of
//! docs/STATIC_LINKING.md, "A WASI command as a native executable"). The program's arguments,
//! environment and stdio are the guest's; its exit status is the guest's `proc_exit` code.

use std::process::ExitCode;

use wasmc_loader::wasi::{self, WasiCtx, WasiCtxBuilder};
use wasmc_loader::{Error, Linker, Store};

include!(concat!(env!("OUT_DIR"), "/hello.rs"));

fn run() -> Result<(), Error> {
    let ctx = WasiCtxBuilder::new()
        .args(std::env::args())
        .inherit_env()
        .inherit_stdio()
        .build()?;
    let mut store = Store::new(ctx);
    let mut linker = Linker::new();
    wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx);
    let instance = linker.instantiate(&mut store, &hello::artifact()?)?;
    hello::Exports::new(&store, &instance)?._start(&mut store)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        // `proc_exit(n)`: the guest's status is the program's.
        Err(e) if e.exit_code().is_some() => {
            ExitCode::from(e.exit_code().map_or(1, |c| u8::try_from(c).unwrap_or(1)))
        }
        Err(e) => {
            eprintln!("hello-command: {e}");
            ExitCode::FAILURE
        }
    }
}
