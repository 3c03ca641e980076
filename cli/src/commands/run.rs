//! `wasmc run`: run a WASI program (`.wasm` or `.wat`, compiled in memory first, or an
//! artifact written by `wasmc build`, loaded without compiling) with the host's stdio, the
//! directories given with `--dir`, and the guest's exit status as the process's; or call one
//! export chosen with `--invoke`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use wasmc_abi::metadata::ExternKind;
use wasmc_cli::input::{InputKind, compile_and_load, wasm_from_source};
use wasmc_cli::values::{format_val, parse_arg};
use wasmc_compiler::{CompileOptions, Compiler};
use wasmc_loader::wasi::{self, WasiCtx, WasiCtxBuilder};
use wasmc_loader::{Artifact, ImportMap, Linker, Store, Val};

/// The exit status of a run that trapped: what a process killed by `abort` (SIGABRT) reports,
/// as `wasmtime run` does.
const TRAP_EXIT_STATUS: u8 = 134;

/// The exit status of a run stopped by `--timeout`, as timeout(1) reports it.
const TIMEOUT_EXIT_STATUS: u8 = 124;

/// How long after the deadline the watchdog waits for the guest to stop by itself before it
/// ends the process (the guest may be blocked in the host: sleeping in `poll_oneoff`, or
/// reading stdin, where no epoch check can stop it).
const WATCHDOG_GRACE: Duration = Duration::from_millis(200);

/// Run a WASI program, or call one export of a module.
#[derive(Debug, Args)]
#[command(after_help = "\
MODULE is recognised by its content: a Wasm binary (`\\0asm`), an artifact from `wasmc build`
(ELF or Mach-O; loaded without compiling), or else WAT text. Options go before MODULE;
everything after MODULE is passed to the guest: its command line (argv[0] is MODULE as
given), or with --invoke the arguments of the function (i32/i64 in decimal or 0x hex,
f32/f64 in decimal, `inf` or `nan`), whose results are printed one per line.

The guest gets WASI preview1 (`wasi_snapshot_preview1`, and legacy `wasi_unstable`) with
this process's stdin, stdout and stderr, the environment given with --env/--inherit-env, and
only the directories given with --dir/--dir-readonly. Paths cannot leave those directories
(`..`, absolute paths and symlinks pointing outside are refused); see docs/WASI.md. Imports
from other modules fail with an error naming the import, unless --import-map renames them.

Exit status: the guest's `proc_exit` status (0 if `_start` returns), 134 if the Wasm code
trapped (the trap is printed on stderr), 124 if --timeout expired, 1 for any other error.

Examples:
  wasmc run hello.wasm
  wasmc run --dir data::/data --env LANG=C prog.wasm input.txt
  wasmc run --timeout 2s --dir-readonly . prog.wasm
  wasmc build prog.wasm -o prog.wasmc.o && wasmc run prog.wasmc.o
  wasmc run --invoke fib examples/fib.wat 20")]
pub struct RunCommand {
    /// Call this exported function instead of `_start`, with ARGS as its arguments.
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,

    /// Give the guest the host directory HOST, named GUEST inside (default: HOST as
    /// written). Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,

    /// Like --dir, but the guest cannot change anything in it (writes fail with EPERM).
    #[arg(long = "dir-readonly", value_name = "HOST[::GUEST]")]
    pub readonly_dirs: Vec<String>,

    /// Set the guest environment variable KEY to VALUE. Repeatable; applied after
    /// --inherit-env.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub envs: Vec<String>,

    /// Give the guest this process's whole environment.
    #[arg(long)]
    pub inherit_env: bool,

    /// Rename imports as FILE says (`module OLD = NEW`, `import M.N = M2.N2`; see
    /// docs/EMBEDDING.md).
    #[arg(long, value_name = "FILE")]
    pub import_map: Option<PathBuf>,

    /// Stop the guest after DURATION (`500ms`, `2s`, `1.5s`, `1m`; a bare number is
    /// seconds) and exit with status 124.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// The program: .wasm, .wat, or an artifact from `wasmc build`.
    #[arg(value_name = "MODULE")]
    pub file: PathBuf,

    /// Arguments for the guest (everything after MODULE).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// Parses `500ms`, `2s`, `1.5s`, `3m`, `100us`, `10ns` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (examples: 500ms, 2s, 1.5s, 1m)"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "ns" => 1e-9,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in duration `{text}` (use ns, us, ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("duration `{text}`: {e}"))
}

/// Splits `HOST[::GUEST]`.
fn parse_dir(spec: &str) -> (&str, &str) {
    spec.split_once("::").unwrap_or((spec, spec))
}

impl RunCommand {
    /// Loads, links, instantiates and runs the program.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let name = self.file.display().to_string();
        let artifact = self.load(&name)?;

        let ctx = self.wasi_ctx(&name)?;
        let mut store = Store::new(ctx);
        let mut linker = Linker::<WasiCtx>::new();
        wasi::add_to_linker(&mut linker, |ctx| ctx);
        if let Some(path) = &self.import_map {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading import map {}", path.display()))?;
            let map = ImportMap::parse(&text)
                .with_context(|| format!("parsing import map {}", path.display()))?;
            linker.apply_import_map(&map);
        }

        // The deadline covers everything that runs Wasm, from the start function on.
        let watchdog = match self.timeout {
            Some(t) => {
                if !artifact.is_interruptible() {
                    bail!(
                        "--timeout cannot stop {name}: it was compiled without epoch checks \
                         (rebuild it without disabling epoch interruption)"
                    );
                }
                store
                    .set_deadline(t)
                    .context("arming the --timeout deadline")?;
                Some(Watchdog::start(t))
            }
            None => None,
        };
        let outcome = self.instantiate_and_run(&mut store, &linker, &artifact, &name);
        drop(watchdog);
        outcome
    }

    fn wasi_ctx(&self, name: &str) -> anyhow::Result<WasiCtx> {
        let mut b = WasiCtxBuilder::new();
        b.inherit_stdio();
        if self.invoke.is_none() {
            b.arg(name).args(&self.args);
        } else {
            b.arg(name);
        }
        if self.inherit_env {
            b.inherit_env();
        }
        for kv in &self.envs {
            let Some((k, v)) = kv.split_once('=') else {
                bail!("--env {kv}: expected KEY=VALUE");
            };
            if k.is_empty() {
                bail!("--env {kv}: the variable name is empty");
            }
            b.env(k, v);
        }
        for (spec, read_only) in self
            .dirs
            .iter()
            .map(|d| (d, false))
            .chain(self.readonly_dirs.iter().map(|d| (d, true)))
        {
            let (host, guest) = parse_dir(spec);
            if !Path::new(host).is_dir() {
                bail!("--dir {spec}: {host} is not a directory");
            }
            b.preopened_dir(host, guest, read_only);
        }
        b.build().context("setting up WASI")
    }

    fn instantiate_and_run(
        &self,
        store: &mut Store<WasiCtx>,
        linker: &Linker<WasiCtx>,
        artifact: &Artifact,
        name: &str,
    ) -> anyhow::Result<ExitCode> {
        let instance = match linker.instantiate(store, artifact) {
            Ok(i) => i,
            Err(e) => return self.finish_with_error(e, &format!("instantiating {name}")),
        };

        let func_name = self.invoke.as_deref().unwrap_or("_start");
        let Some(func) = instance.get_func(store, func_name) else {
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
            // Nothing to call (a reactor, or a module that only has a start function):
            // instantiating was the run.
            return Ok(ExitCode::SUCCESS);
        };
        let ty = func.ty(store);
        if self.invoke.is_none() && (!ty.params.is_empty() || !ty.results.is_empty()) {
            bail!("{name}'s `_start` has type {ty}, but a WASI `_start` is [] -> []");
        }
        let guest_args: &[String] = if self.invoke.is_some() {
            &self.args
        } else {
            &[]
        };
        if ty.params.len() != guest_args.len() {
            bail!(
                "`{func_name}` has type {ty} and takes {} argument(s), but {} were given",
                ty.params.len(),
                guest_args.len()
            );
        }
        let args = ty
            .params
            .iter()
            .zip(guest_args)
            .enumerate()
            .map(|(i, (t, a))| {
                parse_arg(a, *t).map_err(|e| anyhow::anyhow!("argument {}: {e}", i + 1))
            })
            .collect::<anyhow::Result<Vec<Val>>>()?;
        let mut results = vec![Val::I32(0); ty.results.len()];
        if let Err(e) = func.call(store, &args, &mut results) {
            return self.finish_with_error(e, &format!("running `{func_name}` of {name}"));
        }
        wasi::flush_host_stdio();
        for r in &results {
            println!("{}", format_val(r));
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Maps a loader error to the process outcome: `proc_exit` exits with the guest's status,
    /// a deadline exits 124, a trap prints its message and wasm backtrace and exits 134, anything else is an
    /// error for `main`.
    fn finish_with_error(&self, e: wasmc_loader::Error, doing: &str) -> anyhow::Result<ExitCode> {
        wasi::flush_host_stdio();
        if let Some(status) = e.exit_code() {
            // The OS keeps only the low 8 bits of an exit status as well.
            return Ok(ExitCode::from(status.to_le_bytes()[0]));
        }
        if e.is_interrupt()
            && let Some(t) = self.timeout
        {
            eprintln!("error: {doing}: timed out after {t:?} (--timeout); the guest was stopped");
            return Ok(ExitCode::from(TIMEOUT_EXIT_STATUS));
        }
        if e.is_trap() {
            eprintln!("error: {doing}: {e}");
            if let Some(trap) = e.as_trap()
                && !trap.backtrace.is_empty()
            {
                eprintln!("wasm backtrace (innermost first):");
                for (i, frame) in trap.backtrace.iter().enumerate() {
                    eprintln!("  {i:>3}: {frame}");
                }
            }
            return Ok(ExitCode::from(TRAP_EXIT_STATUS));
        }
        Err(anyhow::Error::new(e).context(doing.to_owned()))
    }

    /// Reads MODULE and turns it into a loaded artifact, compiling Wasm or WAT in memory.
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

/// Ends the process with status 124 if the guest is still running `WATCHDOG_GRACE` after
/// the deadline: the store's deadline stops Wasm code, but not a guest blocked inside a host
/// call (a long `poll_oneoff` sleep, a read of stdin). Dropping it disarms it.
struct Watchdog {
    _done: mpsc::Sender<()>,
}

impl Watchdog {
    fn start(timeout: Duration) -> Watchdog {
        let (done, wait) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) =
                wait.recv_timeout(timeout.saturating_add(WATCHDOG_GRACE))
            {
                eprintln!(
                    "error: timed out after {timeout:?} (--timeout); the guest was blocked in \
                     a host call and the process was ended"
                );
                std::process::exit(i32::from(TIMEOUT_EXIT_STATUS));
            }
        });
        Watchdog { _done: done }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn dir_specs_split_host_and_guest() {
        assert_eq!(parse_dir("data::/data"), ("data", "/data"));
        assert_eq!(parse_dir("."), (".", "."));
    }
}
