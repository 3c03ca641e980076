//! `wasmc run`: run a WASI program (`.wasm` or `.wat`, compiled in memory first, or an
//! artifact written by `wasmc build`, loaded without compiling) with the host's stdio, the
//! directories given with `--dir`, and the guest's exit status as the process's; or call one
//! export chosen with `--invoke`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use wasmc_abi::metadata::{ExternKind, flags};
use wasmc_cli::cache::{Cache, default_dir};
use wasmc_cli::diagnostic::SourceError;
use wasmc_cli::input::{InputKind, wasm_from_source};
use wasmc_cli::values::{format_val, parse_arg};
use wasmc_compiler::{CompileControl, Compiler};
use wasmc_loader::profiling::PerfMap;
use wasmc_loader::wasi::{self, WasiCtx, WasiCtxBuilder};
use wasmc_loader::{Artifact, ImportMap, Linker, Store, TrapCode, Val};

use super::build::{CompileArgs, Cpu};
use super::timings::Timings;

/// The exit status of a run that trapped: what a process killed by `abort` (SIGABRT) reports,
/// as `wasmtime run` does.
const TRAP_EXIT_STATUS: u8 = 134;

/// The exit status of a run stopped by `--timeout`, as timeout(1) reports it.
const TIMEOUT_EXIT_STATUS: u8 = 124;

/// How long after the deadline the watchdog waits for the guest to stop by itself before it
/// ends the process (the guest may be blocked in the host: sleeping in `poll_oneoff`, or
/// reading stdin, where neither a loop check nor the interruption signal can stop it).
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

Wasm and WAT input is compiled once and kept in the compilation cache (keyed by the module,
this wasmc build, the target and every compile flag; see `wasmc cache`); later runs load it
from there. -v shows whether the cache hit and how long each phase took. -O, --wasm-feature
and --target-cpu apply to Wasm/WAT input (an artifact is already compiled).

Exit status: the guest's `proc_exit` status (0 if `_start` returns), 134 if the Wasm code
trapped (the trap is printed on stderr), 124 if --timeout expired, 1 for any other error.

Examples:
  wasmc run hello.wasm
  wasmc run --dir data::/data --env LANG=C prog.wasm input.txt
  wasmc run --timeout 2s --dir-readonly . prog.wasm
  wasmc build prog.wasm -o prog.wasmc.o && wasmc run prog.wasmc.o
  wasmc run --invoke fib examples/fib.wat 20
  wasmc run -v --fuel 1000000 --invoke fib examples/fib.wat 20
  perf record wasmc run --profile=perfmap prog.wasm && perf report")]
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

    #[command(flatten)]
    pub compile: CompileArgs,

    /// Give the guest N units of fuel (about one per Wasm operator) and trap with "all fuel
    /// consumed" when it has spent them. Wasm/WAT input is compiled with fuel metering; an
    /// artifact must have been built with `wasmc build --consume-fuel`.
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,

    /// Profiler support: `perfmap` writes `/tmp/perf-<pid>.map` naming every Wasm function,
    /// so `perf record`/`perf report` show `wasm::module::function` names.
    #[arg(long, value_enum, value_name = "KIND")]
    pub profile: Option<Profile>,

    /// Keep compiled Wasm/WAT here [default: $WASMC_CACHE_DIR, else $XDG_CACHE_HOME/wasmc,
    /// else ~/.cache/wasmc].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile in memory without reading or writing the compilation cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,

    /// Print what the cache did and how long each phase took (read, parse, cache lookup,
    /// compile phases, load, instantiate, run) on stderr.
    #[arg(short, long)]
    pub verbose: bool,

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

/// `--profile` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// Write `/tmp/perf-<pid>.map` for Linux `perf`.
    Perfmap,
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
        let begin = Instant::now();
        let timings = Timings::new(self.verbose);
        let name = self.file.display().to_string();
        let artifact = self.load(&name, &timings)?;

        // Kept alive for the run: the map names the code while it is mapped.
        let _perf_map = match self.profile {
            Some(Profile::Perfmap) => {
                let map = PerfMap::open().context("opening the perf map (--profile=perfmap)")?;
                map.add(&artifact).with_context(|| {
                    format!("writing {} (--profile=perfmap)", map.path().display())
                })?;
                timings.note(&format!("perf map: {}", map.path().display()));
                Some(map)
            }
            None => None,
        };

        let ctx = self.wasi_ctx(&name)?;
        let mut store = Store::new(ctx);
        if let Some(fuel) = self.fuel {
            if artifact.header().flags & flags::FUEL == 0 {
                bail!(
                    "--fuel cannot limit {name}: it was compiled without fuel metering \
                     (rebuild it with `wasmc build --consume-fuel`)"
                );
            }
            store.set_fuel(fuel).context("setting --fuel")?;
        }
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
        let outcome = self.instantiate_and_run(&mut store, &linker, &artifact, &name, &timings);
        drop(watchdog);
        timings.total(begin);
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
        timings: &Timings,
    ) -> anyhow::Result<ExitCode> {
        let start = Instant::now();
        let instance = match linker.instantiate(store, artifact) {
            Ok(i) => i,
            Err(e) => return self.finish_with_error(e, &format!("instantiating {name}"), name),
        };
        timings.since("instantiate", start);

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
        let start = Instant::now();
        let called = func.call(store, &args, &mut results);
        timings.since("run", start);
        if let Err(e) = called {
            return self.finish_with_error(e, &format!("running `{func_name}` of {name}"), name);
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
    fn finish_with_error(
        &self,
        e: wasmc_loader::Error,
        doing: &str,
        name: &str,
    ) -> anyhow::Result<ExitCode> {
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
        if let Some(trap) = e.as_trap() {
            // Like rustc: what, where, the context, then the backtrace.
            eprintln!("error: {trap}");
            match (trap.func_index, &trap.func_name) {
                (Some(i), Some(n)) => eprintln!("  --> {name}: function {i} `{n}`"),
                (Some(i), None) => eprintln!("  --> {name}: function {i}"),
                _ => {}
            }
            eprintln!("  = note: while {doing}");
            if trap.code == TrapCode::OutOfFuel
                && let Some(fuel) = self.fuel
            {
                eprintln!("  = hint: the guest used up the {fuel} units of fuel given with --fuel");
            }
            if !trap.backtrace.is_empty() {
                eprintln!("wasm backtrace (innermost first):");
                for (i, frame) in trap.backtrace.iter().enumerate() {
                    eprintln!("  {i:>3}: {frame}");
                }
            }
            return Ok(ExitCode::from(TRAP_EXIT_STATUS));
        }
        Err(anyhow::Error::new(e).context(doing.to_owned()))
    }

    /// Reads MODULE and turns it into a loaded artifact: an artifact file is loaded as is;
    /// Wasm or WAT is taken from the compilation cache, or compiled (and then stored there).
    fn load(&self, name: &str, timings: &Timings) -> anyhow::Result<Artifact> {
        let start = Instant::now();
        let bytes = std::fs::read(&self.file).with_context(|| format!("reading {name}"))?;
        let start = timings.since("read", start);
        if InputKind::detect(&bytes) == InputKind::Artifact {
            drop(bytes);
            // SAFETY: the user asked us to run this file, which carries an object-file
            // magic and is taken to be an artifact from `wasmc build`; running it is
            // running native code they chose, like executing a binary. The loader still
            // checks the header, target, format version and layout hash before mapping
            // anything executable.
            #[allow(unsafe_code, reason = "running an artifact file the user named")]
            let artifact = unsafe { Artifact::from_file(&self.file) };
            let artifact = artifact.with_context(|| format!("loading artifact {name}"))?;
            timings.since("load", start);
            return Ok(artifact);
        }
        let wasm = wasm_from_source(&bytes, name)?;
        drop(bytes);
        let start = timings.since("parse", start);
        let options = self
            .compile
            .options(Cpu::Native)
            .consume_fuel(self.fuel.is_some());

        let cache = if self.no_cache {
            None
        } else {
            let dir = default_dir(self.cache_dir.as_deref());
            if dir.is_none() {
                timings
                    .note("cache: off (no --cache-dir, WASMC_CACHE_DIR, XDG_CACHE_HOME or HOME)");
            }
            dir.map(Cache::new)
        };
        let key = cache.as_ref().map(|_| Cache::key(&options, &wasm));
        if let (Some(cache), Some(key)) = (&cache, &key) {
            let path = cache.entry_path(key);
            if path.is_file() {
                let start = timings.since("cache lookup", start);
                // SAFETY: the entry is a file wasmc wrote into the user's own cache
                // directory, as trusted as the wasmc binary itself; the loader's checked
                // load still verifies the format version, target, CPU features, layout
                // hash and the whole-artifact checksum before mapping anything executable.
                #[allow(unsafe_code, reason = "loading a cache entry wasmc wrote")]
                let loaded = unsafe { Artifact::from_file(&path) };
                match loaded {
                    Ok(artifact) => {
                        timings.note(&format!("cache hit: {}", path.display()));
                        timings.since("load", start);
                        return Ok(artifact);
                    }
                    Err(e) => {
                        // Damaged, or from another wasmc or machine: never run it.
                        timings.note(&format!(
                            "cache: removing unusable entry {} ({e}); recompiling",
                            path.display()
                        ));
                        cache.remove(key);
                    }
                }
            } else {
                timings.note(&format!("cache miss: {}", path.display()));
                timings.since("cache lookup", start);
            }
            let compiled = self.compile_wasm(&options, &wasm, name, timings)?;
            let start = Instant::now();
            match cache.store(key, &compiled) {
                Ok(path) => {
                    timings.since("cache store", start);
                    timings.note(&format!("cache: stored {}", path.display()));
                }
                // A read-only or full cache must not stop the run.
                Err(e) => timings.note(&format!("cache: not stored: {e:#}")),
            }
            return self.load_compiled(&compiled, name, timings);
        }
        let compiled = self.compile_wasm(&options, &wasm, name, timings)?;
        self.load_compiled(&compiled, name, timings)
    }

    fn compile_wasm(
        &self,
        options: &wasmc_compiler::CompileOptions,
        wasm: &[u8],
        name: &str,
        timings: &Timings,
    ) -> anyhow::Result<Vec<u8>> {
        let compiler = Compiler::new(options).context("setting up the compiler for this host")?;
        compiler
            .compile_with(wasm, &timings.watch(CompileControl::new()))
            .map_err(|e| SourceError::new(name, wasm, e))
            .with_context(|| format!("compiling {name}"))
    }

    fn load_compiled(
        &self,
        bytes: &[u8],
        name: &str,
        timings: &Timings,
    ) -> anyhow::Result<Artifact> {
        let start = Instant::now();
        // SAFETY: `bytes` was produced a moment ago by our own compiler in this process, so
        // it is a well-formed artifact for this host (the loader still checks the header,
        // target and layout hash).
        #[allow(unsafe_code, reason = "loading bytes our compiler just produced")]
        let artifact = unsafe { Artifact::from_bytes(bytes) };
        let artifact =
            artifact.with_context(|| format!("loading the code compiled from {name}"))?;
        timings.since("load", start);
        Ok(artifact)
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
