//! `wasmc-bench`: runs every benchmark program under wasmc, wasmc without epoch checks,
//! wasmtime and its native builds, checks that they all print the same checksum, and
//! reports compile time, artifact size, load, instantiate, first-call and run times with
//! their ratios, as a table on stdout and as JSON + Markdown files.
//!
//! The command-line interface and the measurement loop live here; each engine is in its
//! own module behind [`runtime::Runtime`], the report model and tables in [`report`].

mod machine;
mod native;
mod programs;
mod report;
mod runtime;
mod scaling;
mod stats;
mod wasmc_side;
mod wasmtime_side;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use wasmc_compiler::{CompileOptions, CpuLevel};

use crate::programs::{Group, Program};
use crate::report::{
    EngineResult, NativeResult, ProgramResult, Report, Seen, Settings, WASMC, WASMC_NATIVE,
};
use crate::runtime::{Output, Runtime, Sample};
use crate::stats::Stat;
use crate::wasmc_side::Wasmc;
use crate::wasmtime_side::Wasmtime;

/// Rounds per program of the full run (the one that writes `latest.*`).
const DEFAULT_REPS: u32 = 5;

/// Benchmarks wasmc against wasmtime and native builds.
#[derive(Parser, Debug)]
#[command(name = "wasmc-bench", version)]
struct Cli {
    /// More `.wasm` files to measure, beside the corpus and bench/programs.
    wasm: Vec<PathBuf>,
    /// The shared corpus directory (with wasm/, native/ and README.md).
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Rounds per program; the report gives medians (and minima).
    #[arg(long, default_value_t = DEFAULT_REPS, value_parser = clap::value_parser!(u32).range(1..))]
    reps: u32,
    /// `argv[1]` of every program (work grows linearly; expected checksums are for 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    scale: u32,
    /// Smoke test: one round at scale 1 (overrides --reps and --scale).
    #[arg(long)]
    quick: bool,
    /// Measure only these programs (repeatable, or comma-separated).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    only: Vec<String>,
    /// Where to write latest.{json,md} (partial.{json,md} for any run but the full default
    /// one: --quick, --only, extra files, other --reps or --scale, --no-native, --no-scaling,
    /// --cpu native) [default: bench/results].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Skip the native builds.
    #[arg(long)]
    no_native: bool,
    /// Skip the compile-time-by-thread-count measurement.
    #[arg(long)]
    no_scaling: bool,
    /// CPU features wasmc's code may assume: `baseline` (x86-64-v2, wasmc's default) or
    /// `native` (what wasmtime's default config uses: every feature of this machine).
    #[arg(long, value_enum, default_value_t = Cpu::Baseline)]
    cpu: Cpu,
}

/// The CPU level wasmc compiles for (`--cpu`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cpu {
    Baseline,
    Native,
}

/// Rounds of the trivial module per round of the others: each takes microseconds, so more
/// of them cost nothing and steady the median.
const TRIVIAL_ROUNDS_FACTOR: usize = 20;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("error: checksum mismatches or failed runs; see the table");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the benchmark; `Ok(false)` when some program failed or printed a wrong checksum.
fn run() -> Result<bool> {
    let cli = Cli::parse();
    let (reps, scale) = if cli.quick {
        (1, 1)
    } else {
        (cli.reps as usize, cli.scale)
    };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = cli
        .corpus
        .clone()
        .unwrap_or_else(|| manifest.join("../../shared/bench"));
    let harness_dir = manifest.join("programs");
    let out_dir = cli.out.clone().unwrap_or_else(|| manifest.join("results"));

    if !cli.no_native {
        native::build_missing(&harness_dir);
    }
    let programs = programs::discover(&corpus, &harness_dir, &cli.wasm, &cli.only, scale)?;
    if programs.is_empty() {
        bail!("no programs to measure");
    }

    let level = match cli.cpu {
        Cpu::Baseline => CpuLevel::Baseline,
        Cpu::Native => CpuLevel::Native,
    };
    let wasmc = Wasmc::new(WASMC, "wasmc.o", &CompileOptions::new().cpu(level))?;
    let wasmc_native = Wasmc::new(
        WASMC_NATIVE,
        "native.wasmc.o",
        &CompileOptions::new().cpu(CpuLevel::Native),
    )?;
    let wasmtime = Wasmtime::new(true)?;
    let mut machine = machine::Machine::probe(wasmc_version()?, wasmtime_side::VERSION);

    let scratch = std::env::temp_dir().join(format!("wasmc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("creating the scratch directory {}", scratch.display()))?;
    let measured = measure_all(
        &programs,
        &wasmc,
        &wasmc_native,
        &wasmtime,
        &scratch,
        reps,
        scale,
        !cli.no_native,
    );
    let _ = std::fs::remove_dir_all(&scratch);
    let results = measured?;

    let (scaling, scaling_note) = if cli.no_scaling {
        (Vec::new(), Some("Skipped (--no-scaling).".to_owned()))
    } else {
        let serial = Wasmtime::new(false)?;
        let subjects: Vec<&Program> = programs
            .iter()
            .filter(|p| p.group != Group::Trivial)
            .collect();
        match scaling::measure(&wasmc, &wasmtime, &serial, &subjects, reps) {
            Ok(rows) => (rows, None),
            Err(e) => (Vec::new(), Some(format!("Not measured: {e:#}"))),
        }
    };

    machine.loadavg_end = machine::loadavg();
    let report = Report {
        machine,
        settings: Settings {
            reps,
            scale,
            cpu: cli.cpu,
            command: std::env::args().collect::<Vec<_>>().join(" "),
        },
        targets: report::judge(&results),
        programs: results,
        scaling,
        scaling_note,
    };
    let md = report::markdown(&report);
    println!("{md}");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let json = serde_json::to_string_pretty(&report).context("encoding the JSON report")?;
    // Only the full default run may replace latest.*, the files that are committed (and that
    // docs/PERFORMANCE.md quotes); any other (--quick, --only, extra files, fewer or more
    // rounds, another scale, no native builds or thread scaling, --cpu native) writes
    // partial.*.
    let full = !cli.quick
        && cli.only.is_empty()
        && cli.wasm.is_empty()
        && cli.reps == DEFAULT_REPS
        && cli.scale == 1
        && !cli.no_native
        && !cli.no_scaling
        && cli.cpu == Cpu::Baseline;
    let stem = if full { "latest" } else { "partial" };
    for (ext, text) in [("json", json), ("md", md)] {
        let path = out_dir.join(format!("{stem}.{ext}"));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(report.all_ok())
}

/// The compiler version wasmc records in its artifacts.
fn wasmc_version() -> Result<String> {
    let wasm = wat::parse_str("(module)").context("assembling an empty module")?;
    let bytes = wasmc_compiler::compile(&wasm).context("compiling an empty module")?;
    // SAFETY: the bytes come straight from the wasmc compiler.
    let artifact =
        unsafe { wasmc_loader::Artifact::from_bytes(&bytes) }.context("loading an empty module")?;
    Ok(artifact.header().compiler_version.clone())
}

/// One engine of the loop; an enum because the engines' [`Runtime`] types differ.
enum Engine<'a> {
    Wasmc(&'a Wasmc),
    Wasmtime(&'a Wasmtime),
}

impl Engine<'_> {
    fn label(&self) -> &str {
        match self {
            Engine::Wasmc(w) => w.label(),
            Engine::Wasmtime(w) => w.label(),
        }
    }

    fn sample(&self, name: &str, wasm: &[u8], scratch: &Path, argv: &[String]) -> Result<Sample> {
        match self {
            Engine::Wasmc(w) => runtime::sample(*w, name, wasm, scratch, argv),
            Engine::Wasmtime(w) => runtime::sample(*w, name, wasm, scratch, argv),
        }
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "the loop's inputs, named at one call site"
)]
fn measure_all(
    programs: &[Program],
    wasmc: &Wasmc,
    wasmc_native: &Wasmc,
    wasmtime: &Wasmtime,
    scratch: &Path,
    reps: usize,
    scale: u32,
    with_native: bool,
) -> Result<Vec<ProgramResult>> {
    let engines = [
        Engine::Wasmc(wasmc),
        Engine::Wasmtime(wasmtime),
        Engine::Wasmc(wasmc_native),
    ];
    let mut results = Vec::new();
    for p in programs {
        let rounds = if p.group == Group::Trivial {
            reps * TRIVIAL_ROUNDS_FACTOR
        } else {
            reps
        };
        let argv = vec![p.name.clone(), scale.to_string()];
        let natives: Vec<&(String, PathBuf)> = if with_native {
            p.natives.iter().collect()
        } else {
            Vec::new()
        };
        let mut checks = Checks::new(p);
        let mut samples: Vec<Vec<Sample>> = engines.iter().map(|_| Vec::new()).collect();
        let mut native_times: Vec<Vec<f64>> = natives.iter().map(|_| Vec::new()).collect();
        let mut broken = vec![false; engines.len() + natives.len()];

        for round in 0..rounds {
            // Rotate the order every round, so drift on the machine (another job starting,
            // frequency changes) hits every engine alike.
            for k in 0..engines.len() {
                let i = (k + round) % engines.len();
                if broken[i] {
                    continue;
                }
                let e = &engines[i];
                match e.sample(&p.name, &p.wasm, scratch, &argv) {
                    Ok(s) => {
                        for o in &s.outputs {
                            checks.see(e.label(), o);
                        }
                        samples[i].push(s);
                    }
                    Err(err) => {
                        checks.problems.push(format!("{err:#}"));
                        broken[i] = true;
                    }
                }
            }
            for (j, (cc, path)) in natives.iter().enumerate() {
                if broken[engines.len() + j] {
                    continue;
                }
                match native::run(path, scale) {
                    Ok((secs, out)) => {
                        checks.see(cc, &out);
                        native_times[j].push(secs);
                    }
                    Err(err) => {
                        checks.problems.push(format!("native {cc}: {err:#}"));
                        broken[engines.len() + j] = true;
                    }
                }
            }
            progress(
                p,
                round,
                rounds,
                &engines,
                &samples,
                &natives,
                &native_times,
            );
        }

        let engine_results = engines
            .iter()
            .zip(samples)
            .map(|(e, s)| engine_result(e.label(), &s))
            .collect();
        let native_results = natives
            .iter()
            .zip(native_times)
            .map(|((cc, path), t)| NativeResult {
                compiler: cc.clone(),
                path: path.display().to_string(),
                run: Stat::of(t),
            })
            .collect();
        let (seen, problems) = checks.finish();
        for problem in &problems {
            eprintln!("PROBLEM {}: {problem}", p.name);
        }
        results.push(ProgramResult {
            name: p.name.clone(),
            group: p.group,
            path: p.path.as_ref().map(|p| p.display().to_string()),
            wasm_size: p.wasm.len(),
            expected: p.expected.clone(),
            seen,
            problems,
            engines: engine_results,
            natives: native_results,
        });
    }
    Ok(results)
}

fn engine_result(label: &str, samples: &[Sample]) -> EngineResult {
    let stat =
        |f: &dyn Fn(&Sample) -> Option<f64>| Stat::of(samples.iter().filter_map(f).collect());
    EngineResult {
        engine: label.to_owned(),
        compile: stat(&|s| Some(s.compile)),
        size: stat(&|s| Some(s.size)),
        load: stat(&|s| Some(s.load)),
        load_unchecked: stat(&|s| s.load_unchecked),
        instantiate: stat(&|s| Some(s.instantiate)),
        first_call: stat(&|s| Some(s.first_call)),
        run: stat(&|s| Some(s.run)),
        cold_start: stat(&|s| Some(s.load + s.instantiate + s.first_call)),
    }
}

/// One line per round on stderr, so a long run shows it is alive.
fn progress(
    p: &Program,
    round: usize,
    rounds: usize,
    engines: &[Engine<'_>],
    samples: &[Vec<Sample>],
    natives: &[&(String, PathBuf)],
    native_times: &[Vec<f64>],
) {
    if p.group == Group::Trivial && round + 1 != rounds {
        return;
    }
    let mut line = format!("{} round {}/{rounds}:", p.name, round + 1);
    for (e, s) in engines.iter().zip(samples) {
        if let Some(s) = s.last() {
            line += &format!(" {} {}", e.label(), report::secs(s.run));
        }
    }
    for ((cc, _), t) in natives.iter().zip(native_times) {
        if let Some(t) = t.last() {
            line += &format!(" {cc} {}", report::secs(*t));
        }
    }
    eprintln!("{line}");
}

/// The checksums one program printed, checked against each other and the expected value.
struct Checks {
    name: String,
    expected: Option<String>,
    prints_checksum: bool,
    seen: Vec<Seen>,
    problems: Vec<String>,
}

impl Checks {
    fn new(p: &Program) -> Checks {
        Checks {
            name: p.name.clone(),
            expected: p.expected.clone(),
            prints_checksum: p.prints_checksum,
            seen: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Records what `by` printed in one run.
    fn see(&mut self, by: &str, out: &Output) {
        let seen = Seen {
            by: by.to_owned(),
            checksum: programs::checksum_of(&out.stdout),
        };
        if !self.seen.contains(&seen) {
            self.seen.push(seen);
        }
    }

    /// Every distinct checksum and the problems: a missing line, a value differing from
    /// the expected one or from the others.
    fn finish(mut self) -> (Vec<Seen>, Vec<String>) {
        if self.prints_checksum {
            let reference = self
                .expected
                .clone()
                .or_else(|| {
                    self.seen
                        .iter()
                        .find(|s| s.by == "gcc")
                        .and_then(|s| s.checksum.clone())
                })
                .or_else(|| self.seen.iter().find_map(|s| s.checksum.clone()));
            for s in &self.seen {
                match (&s.checksum, &reference) {
                    (None, _) => self
                        .problems
                        .push(format!("checksum: {} printed no `checksum:` line", s.by)),
                    (Some(c), Some(r)) if c != r => self.problems.push(format!(
                        "checksum: {} printed `{c}`, expected `{r}`{}",
                        s.by,
                        if self.expected.is_some() {
                            " (the README table)"
                        } else {
                            " (what the others printed)"
                        }
                    )),
                    _ => {}
                }
            }
        } else if let Some(s) = self.seen.iter().find(|s| s.checksum.is_some()) {
            self.problems.push(format!(
                "checksum: {} printed a checksum, but {} prints none",
                s.by, self.name
            ));
        }
        (self.seen, self.problems)
    }
}
