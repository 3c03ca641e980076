//! `wasmc run`: run a `.wasm` or `.wat` file (compiled in memory first) or an artifact written
//! by `wasmc build`, either its `_start` function or one export chosen with `--invoke`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use wasmc_abi::metadata::ExternKind;
use wasmc_cli::input::{InputKind, compile_and_load, wasm_from_source};
use wasmc_cli::values::{format_val, parse_arg};
use wasmc_compiler::{CompileOptions, Compiler};
use wasmc_loader::{Artifact, Linker, Store, Val};

/// The exit status of a run that trapped: what a process killed by `abort` (SIGABRT) reports,
/// as `wasmtime run` does.
const TRAP_EXIT_STATUS: u8 = 134;

/// Run a Wasm module, WAT file or artifact.
#[derive(Debug, Args)]
#[command(after_help = "\
FILE is recognised by its content: a Wasm binary (`\\0asm`), an artifact from `wasmc build`
(ELF or Mach-O), or else WAT text. Options go before FILE; everything after FILE is passed
to the guest: with --invoke, the arguments of the function (i32/i64 in decimal or 0x hex,
f32/f64 in decimal, `inf` or `nan`), each result is printed on its own line.

Without --invoke the module's `_start` export is called if it has one. Host imports such as
WASI are not provided yet: a module that imports anything fails with an error naming the
import.

Exit status: 0 on success, 134 if the Wasm code trapped (the trap is printed on stderr),
1 for any other error.

Examples:
  wasmc run --invoke fib examples/fib.wat 20
  wasmc build examples/fib.wat -o fib.wasmc.o && wasmc run --invoke fib fib.wasmc.o 20
  wasmc run --invoke add examples/add.wat -1 2")]
pub struct RunCommand {
    /// Call this exported function instead of `_start`, with ARGS as its arguments.
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,

    /// The program: .wasm, .wat, or an artifact from `wasmc build`.
    pub file: PathBuf,

    /// Arguments for the guest (everything after FILE).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

impl RunCommand {
    /// Loads, instantiates and runs the program.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let name = self.file.display().to_string();
        let artifact = self.load(&name)?;

        if self.invoke.is_none() && !self.args.is_empty() {
            bail!(
                "arguments after {name} are only used with --invoke: without it they would be \
                 the guest's command line, which needs WASI (not supported yet)"
            );
        }

        if let Some(import) = artifact.imports().first() {
            bail!(
                "{name} imports \"{}\" \"{}\" ({}), but `wasmc run` provides no host imports \
                 yet (WASI support is a later step)",
                import.module,
                import.name,
                import.kind.kind()
            );
        }

        let mut store = Store::new(());
        let linker = Linker::<()>::new();
        let instance = match linker.instantiate(&mut store, &artifact) {
            Ok(i) => i,
            Err(e) => return finish_with_error(e, &format!("instantiating {name}")),
        };

        let func_name = match &self.invoke {
            Some(f) => f.as_str(),
            None => "_start",
        };
        let Some(func) = instance.get_func(&store, func_name) else {
            if self.invoke.is_some() {
                let funcs: Vec<&str> = artifact
                    .exports()
                    .iter()
                    .filter(|e| e.kind == ExternKind::Func)
                    .map(|e| e.name.as_str())
                    .collect();
                bail!(
                    "{name} has no exported function `{func_name}` (exported functions: {})",
                    if funcs.is_empty() {
                        "none".to_owned()
                    } else {
                        funcs.join(", ")
                    }
                );
            }
            // Nothing to call: instantiating (and running the start function) was the run.
            return Ok(ExitCode::SUCCESS);
        };
        let ty = func.ty(&store);
        if self.invoke.is_none() && !ty.params.is_empty() {
            bail!("{name}'s `_start` has type {ty}, but a `_start` function takes no parameters");
        }
        if ty.params.len() != self.args.len() {
            bail!(
                "`{func_name}` has type {ty} and takes {} argument(s), but {} were given",
                ty.params.len(),
                self.args.len()
            );
        }
        let args = ty
            .params
            .iter()
            .zip(&self.args)
            .enumerate()
            .map(|(i, (t, a))| {
                parse_arg(a, *t).map_err(|e| anyhow::anyhow!("argument {}: {e}", i + 1))
            })
            .collect::<anyhow::Result<Vec<Val>>>()?;
        let mut results = vec![Val::I32(0); ty.results.len()];
        if let Err(e) = func.call(&mut store, &args, &mut results) {
            return finish_with_error(e, &format!("calling `{func_name}`"));
        }
        for r in &results {
            println!("{}", format_val(r));
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Reads FILE and turns it into a loaded artifact, compiling Wasm or WAT in memory.
    fn load(&self, name: &str) -> anyhow::Result<Artifact> {
        let bytes = std::fs::read(&self.file).with_context(|| format!("reading {name}"))?;
        match InputKind::detect(&bytes) {
            InputKind::Artifact => {
                drop(bytes);
                // SAFETY: the user asked us to run this file, which carries an object-file
                // magic and is taken to be an artifact from `wasmc build`; running it is
                // running native code they chose, like executing a binary. The loader still
                // checks the header, target, format version and layout hash before mapping
                // anything executable.
                #[allow(unsafe_code, reason = "running an artifact file the user named")]
                let artifact = unsafe { Artifact::from_file(&self.file) };
                artifact.with_context(|| format!("loading artifact {name}"))
            }
            InputKind::Wasm | InputKind::Wat => {
                let wasm = wasm_from_source(&bytes, name)?;
                let compiler = Compiler::new(&CompileOptions::new())
                    .context("setting up the compiler for this host")?;
                compile_and_load(&compiler, &wasm).with_context(|| format!("preparing {name}"))
            }
        }
    }
}

/// Maps a loader error to the process outcome: a trap prints its message and exits 134, a
/// WASI `proc_exit` exits with the guest's status, anything else is an error for `main`.
fn finish_with_error(e: wasmc_loader::Error, doing: &str) -> anyhow::Result<ExitCode> {
    if e.trap_code().is_some() {
        eprintln!("error: {doing}: {e}");
        return Ok(ExitCode::from(TRAP_EXIT_STATUS));
    }
    if let Some(status) = e.exit_code() {
        // The OS keeps only the low 8 bits of an exit status as well.
        return Ok(ExitCode::from(status.to_le_bytes()[0]));
    }
    Err(anyhow::Error::new(e).context(doing.to_owned()))
}
