//! The results of a run: the model written as JSON, the Markdown tables printed and written
//! beside it, and the issue-#6 targets judged from them.

use std::fmt::Write as _;

use serde::Serialize;

use crate::machine::Machine;
use crate::programs::Group;
use crate::scaling::ScalingRow;
use crate::stats::{Stat, geomean, ratio};

/// Labels of the engines, as measured (see `main.rs`).
pub const WASMC: &str = "wasmc";
/// wasmc compiled for every CPU feature of this machine (`CpuLevel::Native`), as wasmtime's
/// default config compiles.
pub const WASMC_NATIVE: &str = "wasmc-native";
/// wasmtime, default config at `OptLevel::Speed`.
pub const WASMTIME: &str = "wasmtime";

/// How the run was set up.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Rounds per program (the trivial module gets more, see `main.rs`).
    pub reps: usize,
    /// `argv[1]` of every program.
    pub scale: u32,
    /// The CPU level wasmc compiled for.
    pub cpu: crate::Cpu,
    /// The exact command line.
    pub command: String,
}

/// One engine's measurements of one program, in seconds (sizes in bytes).
#[derive(Debug, Clone, Default, Serialize)]
pub struct EngineResult {
    /// [`WASMC`], [`WASMC_NATIVE`] or [`WASMTIME`].
    pub engine: String,
    /// Wasm bytes to artifact bytes.
    pub compile: Option<Stat>,
    /// Artifact size.
    pub size: Option<Stat>,
    /// Artifact file to loaded module (checked).
    pub load: Option<Stat>,
    /// The same without the whole-file checksum (wasmc only).
    pub load_unchecked: Option<Stat>,
    /// Store + WASI context + instance.
    pub instantiate: Option<Stat>,
    /// `_start` in the first instance of a freshly loaded module.
    pub first_call: Option<Stat>,
    /// `_start` in a later fresh instance.
    pub run: Option<Stat>,
    /// load + instantiate + first call, summed per round.
    pub cold_start: Option<Stat>,
}

/// One native binary's run times.
#[derive(Debug, Clone, Serialize)]
pub struct NativeResult {
    /// `gcc` or `clang`.
    pub compiler: String,
    /// The binary.
    pub path: String,
    /// Wall time, spawn to exit.
    pub run: Option<Stat>,
}

/// One checksum one side printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seen {
    /// Who printed it: an engine label or a native compiler.
    pub by: String,
    /// The text after `checksum:`, or `None` when there was no such line.
    pub checksum: Option<String>,
}

/// Everything measured for one program.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramResult {
    /// Its name.
    pub name: String,
    /// Where it comes from.
    pub group: Group,
    /// Its `.wasm` file, if any.
    pub path: Option<String>,
    /// Module size in bytes.
    pub wasm_size: usize,
    /// The checksum it must print, when known.
    pub expected: Option<String>,
    /// Every distinct checksum each side printed.
    pub seen: Vec<Seen>,
    /// What went wrong: failed steps and checksum mismatches. Empty when all is well.
    pub problems: Vec<String>,
    /// Per engine.
    pub engines: Vec<EngineResult>,
    /// Per native build.
    pub natives: Vec<NativeResult>,
}

impl ProgramResult {
    fn engine(&self, label: &str) -> Option<&EngineResult> {
        self.engines.iter().find(|e| e.engine == label)
    }

    fn metric(&self, label: &str, f: impl Fn(&EngineResult) -> Option<&Stat>) -> Option<f64> {
        self.engine(label).and_then(f).map(|s| s.median)
    }

    fn native(&self, compiler: &str) -> Option<f64> {
        self.natives
            .iter()
            .find(|n| n.compiler == compiler)
            .and_then(|n| n.run.as_ref())
            .map(|s| s.median)
    }

    /// "ok", "MISMATCH" or "FAILED".
    pub fn status(&self) -> &'static str {
        if self.problems.is_empty() {
            "ok"
        } else if self.problems.iter().any(|p| p.starts_with("checksum")) {
            "MISMATCH"
        } else {
            "FAILED"
        }
    }
}

/// One issue-#6 target.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// What is aimed at.
    pub target: String,
    /// The measured value, described.
    pub measured: String,
    /// `Some(true)` met, `Some(false)` missed, `None` not measured in this run.
    pub met: Option<bool>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The machine.
    pub machine: Machine,
    /// The settings.
    pub settings: Settings,
    /// Per program.
    pub programs: Vec<ProgramResult>,
    /// The targets, judged.
    pub targets: Vec<Target>,
    /// Compile time by thread count (empty when skipped).
    pub scaling: Vec<ScalingRow>,
    /// A note when the thread-scaling measurement could not be made.
    pub scaling_note: Option<String>,
}

impl Report {
    /// Whether every program ran and printed the same correct checksum everywhere.
    pub fn all_ok(&self) -> bool {
        self.programs.iter().all(|p| p.problems.is_empty())
    }
}

type Metric = fn(&EngineResult) -> Option<&Stat>;

/// One ratio of one program, for a column and its geometric mean.
type RatioFn<'a> = &'a dyn Fn(&ProgramResult) -> Option<f64>;

const RUN: Metric = |e| e.run.as_ref();
const COMPILE: Metric = |e| e.compile.as_ref();
const SIZE: Metric = |e| e.size.as_ref();
const LOAD: Metric = |e| e.load.as_ref();
const INSTANTIATE: Metric = |e| e.instantiate.as_ref();
const FIRST_CALL: Metric = |e| e.first_call.as_ref();
const COLD: Metric = |e| e.cold_start.as_ref();

/// `wasmc/wasmtime` of `metric` for one program, with `a` the wasmc label.
fn vs_wasmtime(p: &ProgramResult, a: &str, metric: Metric) -> Option<f64> {
    ratio(p.metric(a, metric), p.metric(WASMTIME, metric))
}

/// The geometric mean of `f` over the programs of `group` (all but the trivial one when
/// `None`).
fn mean_over(
    programs: &[ProgramResult],
    group: Option<Group>,
    f: impl Fn(&ProgramResult) -> Option<f64>,
) -> Option<f64> {
    geomean(
        programs
            .iter()
            .filter(|p| match group {
                Some(g) => p.group == g,
                None => p.group != Group::Trivial,
            })
            .filter_map(f),
    )
}

/// Judges the issue-#6 targets from `programs`.
pub fn judge(programs: &[ProgramResult]) -> Vec<Target> {
    let corpus = Some(Group::Corpus);
    let x = |v: Option<f64>| v.map_or("not measured".to_owned(), |v| format!("{v:.2}x"));
    let at_most = |v: Option<f64>, limit: f64| v.map(|v| v <= limit);
    let mut targets = Vec::new();
    let mut push = |target: &str, v: Option<f64>, limit: f64| {
        targets.push(Target {
            target: target.to_owned(),
            measured: x(v),
            met: at_most(v, limit),
        });
    };

    let run = mean_over(programs, corpus, |p| vs_wasmtime(p, WASMC, RUN));
    push(
        "run time, geomean over the shared corpus, wasmc (its defaults: interruptible, portable x86-64-v2 code) <= 1.0x wasmtime",
        run,
        1.0,
    );
    let run_ne = mean_over(programs, corpus, |p| vs_wasmtime(p, WASMC_NATIVE, RUN));
    push(
        "run time, same, wasmc for this machine's CPU (`--target-cpu native`, as wasmtime's default config compiles) <= 1.0x wasmtime",
        run_ne,
        1.0,
    );
    push(
        "run time stretch goal: wasmc (default) <= 0.9x wasmtime",
        run,
        0.9,
    );
    let gcc = mean_over(programs, corpus, |p| {
        ratio(p.metric(WASMC, RUN), p.native("gcc"))
    });
    push(
        "run time, geomean over the shared corpus, wasmc (default) <= 1.3x native gcc -O2",
        gcc,
        1.3,
    );
    let compile = mean_over(programs, corpus, |p| vs_wasmtime(p, WASMC, COMPILE));
    push(
        "compile time, geomean over the shared corpus, <= 1.0x wasmtime",
        compile,
        1.0,
    );
    // Size is per module: the worst program decides.
    let size = programs
        .iter()
        .filter(|p| p.group != Group::Trivial)
        .filter_map(|p| vs_wasmtime(p, WASMC, SIZE))
        .reduce(f64::max);
    push(
        "artifact size, every program (largest ratio shown), <= 1.0x wasmtime .cwasm",
        size,
        1.0,
    );
    let cold = programs
        .iter()
        .find(|p| p.group == Group::Trivial)
        .and_then(|p| vs_wasmtime(p, WASMC, COLD));
    push(
        "cold start (load + instantiate + first call, trivial module) <= 0.5x wasmtime",
        cold,
        0.5,
    );
    targets
}

/// Formats seconds with a unit that keeps three or four significant digits.
pub fn secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// A time statistic as `median (min)`, both in the median's unit.
fn time_cell(s: Option<&Stat>) -> String {
    let Some(s) = s else {
        return "n/a".to_owned();
    };
    let (scale, unit) = if s.median >= 1.0 {
        (1.0, "s")
    } else if s.median >= 1e-3 {
        (1e3, "ms")
    } else {
        (1e6, "µs")
    };
    let digits = if unit == "s" { 3 } else { 1 };
    format!(
        "{:.digits$} ({:.digits$}) {unit}",
        s.median * scale,
        s.min * scale
    )
}

fn kib(bytes: Option<f64>) -> String {
    bytes.map_or("n/a".to_owned(), |b| format!("{:.1} KiB", b / 1024.0))
}

fn ratio_cell(r: Option<f64>) -> String {
    r.map_or("n/a".to_owned(), |r| format!("{r:.2}x"))
}

fn row(out: &mut String, cells: &[String]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

fn header(out: &mut String, cells: &[&str]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        cells
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
            .collect::<String>()
    );
}

/// The geometric-mean rows of a table: one over the shared corpus, one over every program
/// but the trivial module. `cells` makes the ratio cells of one program.
fn mean_rows(out: &mut String, programs: &[ProgramResult], blanks: usize, ratios: &[RatioFn<'_>]) {
    for (title, group) in [
        ("**geomean, shared corpus**", Some(Group::Corpus)),
        ("**geomean, all programs**", None),
    ] {
        let mut cells = vec![title.to_owned()];
        cells.extend(std::iter::repeat_n(String::new(), blanks));
        cells.extend(
            ratios
                .iter()
                .map(|f| ratio_cell(mean_over(programs, group, f))),
        );
        row(out, &cells);
    }
}

/// The report as Markdown: targets, then one table per group of metrics, then thread
/// scaling and the machine.
pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let m = &r.machine;
    let _ = writeln!(
        out,
        "Measured {} UTC on {} ({} CPUs available), Linux {}; wasmc {}, wasmtime {}, {}, {}. \
         {} rounds per program (the trivial module more), scale {}. \
         Times are `median (min)` over the rounds; ratios are of medians.\n",
        m.date_utc,
        m.cpu,
        m.nproc,
        m.kernel,
        m.wasmc,
        m.wasmtime,
        m.rustc,
        m.gcc,
        r.settings.reps,
        r.settings.scale
    );
    let _ = writeln!(
        out,
        "Load average (1/5/15 min) at the start: {}; at the end: {}.\n",
        m.loadavg_start, m.loadavg_end
    );
    let _ = writeln!(out, "Command: `{}`\n", r.settings.command);
    let _ = writeln!(
        out,
        "wasmc compiled for CPU level `{}` (`--cpu`), and for every feature of this machine in the \
         `wasmc native-CPU` column (wasmtime's default config always uses them). wasmc's default \
         code stops loops by signal, so it is byte for byte the code compiled without \
         interruption.\n",
        match r.settings.cpu {
            crate::Cpu::Baseline => "baseline (x86-64-v2)",
            crate::Cpu::Native => "native",
        }
    );

    let failed: Vec<&ProgramResult> = r.programs.iter().filter(|p| p.status() != "ok").collect();
    if failed.is_empty() {
        let _ = writeln!(
            out,
            "Every checksum matched across wasmc, wasmc-native, wasmtime and the native builds \
             (and the expected value where one is known).\n"
        );
    } else {
        let _ = writeln!(out, "**PROBLEMS** (these rows are wrong or incomplete):\n");
        for p in failed {
            for problem in &p.problems {
                let _ = writeln!(out, "- **{}** {}: {problem}", p.status(), p.name);
            }
        }
        out.push('\n');
    }

    let _ = writeln!(out, "### Targets (issue #6)\n");
    header(&mut out, &["target", "measured", "status"]);
    for t in &r.targets {
        let status = match t.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "not measured",
        };
        row(
            &mut out,
            &[t.target.clone(), t.measured.clone(), status.to_owned()],
        );
    }

    let programs: Vec<ProgramResult> = r.programs.clone();
    let real: Vec<&ProgramResult> = programs
        .iter()
        .filter(|p| p.group != Group::Trivial)
        .collect();

    let _ = writeln!(out, "\n### Run time of `_start`\n");
    header(
        &mut out,
        &[
            "program",
            "wasmc",
            "wasmc native-CPU",
            "wasmtime",
            "gcc -O2",
            "clang -O2",
            "wasmc / wasmtime",
            "native-CPU / wasmtime",
            "wasmc / gcc",
            "native-CPU / gcc",
            "checksum",
        ],
    );
    let run_ratios: [RatioFn<'_>; 4] = [
        &|p| vs_wasmtime(p, WASMC, RUN),
        &|p| vs_wasmtime(p, WASMC_NATIVE, RUN),
        &|p| ratio(p.metric(WASMC, RUN), p.native("gcc")),
        &|p| ratio(p.metric(WASMC_NATIVE, RUN), p.native("gcc")),
    ];
    for p in &real {
        let native = |cc: &str| {
            time_cell(
                p.natives
                    .iter()
                    .find(|n| n.compiler == cc)
                    .and_then(|n| n.run.as_ref()),
            )
        };
        let mut cells = vec![
            p.name.clone(),
            time_cell(p.engine(WASMC).and_then(RUN)),
            time_cell(p.engine(WASMC_NATIVE).and_then(RUN)),
            time_cell(p.engine(WASMTIME).and_then(RUN)),
            native("gcc"),
            native("clang"),
        ];
        cells.extend(run_ratios.iter().map(|f| ratio_cell(f(p))));
        cells.push(checksum_cell(p));
        row(&mut out, &cells);
    }
    mean_rows(&mut out, &programs, 5, &run_ratios);

    let _ = writeln!(out, "\n### Compile time and artifact size\n");
    header(
        &mut out,
        &[
            "program",
            "wasm",
            "wasmc compile",
            "wasmtime compile",
            "compile ratio",
            "wasmc artifact",
            "wasmtime .cwasm",
            "size ratio",
        ],
    );
    let compile_ratios: [RatioFn<'_>; 2] = [&|p| vs_wasmtime(p, WASMC, COMPILE), &|p| {
        vs_wasmtime(p, WASMC, SIZE)
    }];
    for p in &real {
        row(
            &mut out,
            &[
                p.name.clone(),
                kib(Some(p.wasm_size as f64)),
                time_cell(p.engine(WASMC).and_then(COMPILE)),
                time_cell(p.engine(WASMTIME).and_then(COMPILE)),
                ratio_cell(compile_ratios[0](p)),
                kib(p.metric(WASMC, SIZE)),
                kib(p.metric(WASMTIME, SIZE)),
                ratio_cell(compile_ratios[1](p)),
            ],
        );
    }
    // Geomean rows with blanks under the absolute columns.
    for (title, group) in [
        ("**geomean, shared corpus**", Some(Group::Corpus)),
        ("**geomean, all programs**", None),
    ] {
        let c = ratio_cell(mean_over(&programs, group, compile_ratios[0]));
        let s = ratio_cell(mean_over(&programs, group, compile_ratios[1]));
        row(
            &mut out,
            &[
                title.to_owned(),
                String::new(),
                String::new(),
                String::new(),
                c,
                String::new(),
                String::new(),
                s,
            ],
        );
    }

    let _ = writeln!(out, "\n### Load, instantiate, first call\n");
    header(
        &mut out,
        &[
            "program",
            "wasmc load",
            "wasmc load unchecked",
            "wasmtime load",
            "load ratio",
            "unchecked / wasmtime",
            "wasmc instantiate",
            "wasmtime instantiate",
            "instantiate ratio",
            "wasmc first call",
            "wasmtime first call",
            "first call ratio",
        ],
    );
    let start_ratios: [RatioFn<'_>; 4] = [
        &|p| vs_wasmtime(p, WASMC, LOAD),
        &|p| {
            ratio(
                p.engine(WASMC)
                    .and_then(|e| e.load_unchecked.as_ref())
                    .map(|s| s.median),
                p.metric(WASMTIME, LOAD),
            )
        },
        &|p| vs_wasmtime(p, WASMC, INSTANTIATE),
        &|p| vs_wasmtime(p, WASMC, FIRST_CALL),
    ];
    for p in &programs {
        let w = p.engine(WASMC);
        let t = p.engine(WASMTIME);
        row(
            &mut out,
            &[
                p.name.clone(),
                time_cell(w.and_then(LOAD)),
                time_cell(w.and_then(|e| e.load_unchecked.as_ref())),
                time_cell(t.and_then(LOAD)),
                ratio_cell(start_ratios[0](p)),
                ratio_cell(start_ratios[1](p)),
                time_cell(w.and_then(INSTANTIATE)),
                time_cell(t.and_then(INSTANTIATE)),
                ratio_cell(start_ratios[2](p)),
                time_cell(w.and_then(FIRST_CALL)),
                time_cell(t.and_then(FIRST_CALL)),
                ratio_cell(start_ratios[3](p)),
            ],
        );
    }
    for (title, group) in [
        ("**geomean, shared corpus**", Some(Group::Corpus)),
        ("**geomean, all programs**", None),
    ] {
        let r: Vec<String> = start_ratios
            .iter()
            .map(|f| ratio_cell(mean_over(&programs, group, f)))
            .collect();
        let blank = String::new;
        row(
            &mut out,
            &[
                title.to_owned(),
                blank(),
                blank(),
                blank(),
                r[0].clone(),
                r[1].clone(),
                blank(),
                blank(),
                r[2].clone(),
                blank(),
                blank(),
                r[3].clone(),
            ],
        );
    }
    if let Some(p) = programs.iter().find(|p| p.group == Group::Trivial) {
        let _ = writeln!(
            out,
            "\nCold start of the trivial module (load + instantiate + first call, summed per \
             round): wasmc {}, wasmtime {}, ratio {}.",
            time_cell(p.engine(WASMC).and_then(COLD)),
            time_cell(p.engine(WASMTIME).and_then(COLD)),
            ratio_cell(vs_wasmtime(p, WASMC, COLD))
        );
    }

    let _ = writeln!(out, "\n### Compile time by thread count\n");
    if let Some(note) = &r.scaling_note {
        let _ = writeln!(out, "{note}\n");
    }
    if !r.scaling.is_empty() {
        let all = format!("{} CPUs", m.nproc);
        header(
            &mut out,
            &[
                "program",
                "wasmc 1 CPU",
                &format!("wasmc {all}"),
                "wasmc speedup",
                "wasmtime 1 CPU",
                &format!("wasmtime {all}"),
                "wasmtime speedup",
            ],
        );
        for s in &r.scaling {
            row(
                &mut out,
                &[
                    s.program.clone(),
                    time_cell(Some(&s.wasmc_one)),
                    time_cell(Some(&s.wasmc_all)),
                    ratio_cell(ratio(Some(s.wasmc_one.median), Some(s.wasmc_all.median))),
                    time_cell(Some(&s.wasmtime_one)),
                    time_cell(Some(&s.wasmtime_all)),
                    ratio_cell(ratio(
                        Some(s.wasmtime_one.median),
                        Some(s.wasmtime_all.median),
                    )),
                ],
            );
        }
        let speedup = |f: fn(&ScalingRow) -> (f64, f64)| {
            ratio_cell(geomean(r.scaling.iter().map(|s| {
                let (a, b) = f(s);
                a / b
            })))
        };
        row(
            &mut out,
            &[
                "**geomean**".to_owned(),
                String::new(),
                String::new(),
                speedup(|s| (s.wasmc_one.median, s.wasmc_all.median)),
                String::new(),
                String::new(),
                speedup(|s| (s.wasmtime_one.median, s.wasmtime_all.median)),
            ],
        );
    }
    out
}

/// The checksum column: the agreed value, or what went wrong.
fn checksum_cell(p: &ProgramResult) -> String {
    match p.status() {
        "ok" => {
            let value = p
                .seen
                .iter()
                .find_map(|s| s.checksum.clone())
                .unwrap_or_default();
            let known = if p.expected.is_some() {
                " (= expected)"
            } else {
                ""
            };
            format!("`{value}`{known}")
        }
        status => format!("**{status}**"),
    }
}
