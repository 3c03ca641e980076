//! Instantiate/drop churn, wasmc beside wasmtime: 100,000 cycles of "new store, instantiate
//! a module with a one-page memory and a table, call it, drop the store", with the total and
//! per-cycle time and the process's RSS and mapping count before and after.
//!
//! Not a criterion benchmark (`harness = false`): the question is whether anything leaks, so
//! it runs a fixed number of cycles and compares the process before and after. It exits with
//! status 1 if wasmc's RSS grew by more than 10 % or its mapping count grew at all; wasmtime's
//! figures are printed for comparison only. "Before" is taken after a warm-up of
//! [`WARM_UP`] cycles, so one-time lazy set-up of either engine (signal handlers, the
//! deadline timer thread, allocator arenas) is not mistaken for a leak.
//!
//! `cargo bench --bench churn [-- --cycles N]`.

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wasmc_loader as wc;
use wasmtime as wt;

/// Cycles run by default.
const CYCLES: u64 = 100_000;

/// Untimed cycles before the "before" reading.
const WARM_UP: u64 = 1_000;

/// How much wasmc's RSS may grow over the run before it counts as a leak.
const RSS_TOLERANCE: f64 = 0.10;

/// One engine's run.
struct Churn {
    engine: &'static str,
    elapsed: Duration,
    cycles: u64,
    rss_before: u64,
    rss_after: u64,
    maps_before: usize,
    maps_after: usize,
}

impl Churn {
    fn print(&self) {
        let per_cycle = self.elapsed.as_secs_f64() * 1e9 / self.cycles as f64;
        println!(
            "{:<9} {:>7} cycles in {:>8.3} s = {:>8.0} ns/cycle | RSS {:>7.2} -> {:>7.2} MiB ({:+.1} %) | mappings {} -> {}",
            self.engine,
            self.cycles,
            self.elapsed.as_secs_f64(),
            per_cycle,
            mib(self.rss_before),
            mib(self.rss_after),
            self.rss_growth() * 100.0,
            self.maps_before,
            self.maps_after,
        );
    }

    fn rss_growth(&self) -> f64 {
        (self.rss_after as f64 - self.rss_before as f64) / self.rss_before as f64
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Warms up, reads the process, times `cycles` calls of `cycle`, reads the process again.
fn churn(
    engine: &'static str,
    cycles: u64,
    mut cycle: impl FnMut() -> Result<()>,
) -> Result<Churn> {
    for _ in 0..WARM_UP {
        cycle()?;
    }
    let rss_before = common::rss_bytes()?;
    let maps_before = common::mapping_count()?;
    let start = Instant::now();
    for _ in 0..cycles {
        cycle()?;
    }
    let elapsed = start.elapsed();
    Ok(Churn {
        engine,
        elapsed,
        cycles,
        rss_before,
        rss_after: common::rss_bytes()?,
        maps_before,
        maps_after: common::mapping_count()?,
    })
}

/// `--cycles N`; every other argument (cargo passes `--bench`) is ignored.
fn cycles_from_args() -> Result<u64> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--cycles" {
            let n = args.next().context("--cycles needs a number")?;
            return n
                .parse()
                .with_context(|| format!("--cycles: `{n}` is not a count"));
        }
    }
    Ok(CYCLES)
}

fn run() -> Result<bool> {
    let cycles = cycles_from_args()?;
    let engine = common::wasmtime_engine()?;
    let scratch = common::Scratch::new("churn")?;
    let p = scratch.prepare(&engine, "churn", common::CHURN)?;

    println!(
        "churn: new store + instantiate (1-page memory, 4-entry table) + call + drop; \
         {WARM_UP} warm-up cycles, then {cycles} timed"
    );
    let artifact = common::load_wasmc(&p.wasmc);
    let linker = wc::Linker::<()>::new();
    let wasmc = churn("wasmc", cycles, || {
        let mut store = wc::Store::new(());
        let instance = linker.instantiate(&mut store, &artifact)?;
        let got = instance
            .get_typed_func::<(), i32>(&store, "f")?
            .call(&mut store, ())?;
        if got != 42 {
            bail!("wasmc: f returned {got}, not 42");
        }
        Ok(())
    })?;
    wasmc.print();

    let module = common::load_wasmtime(&engine, &p.wasmtime);
    let linker = wt::Linker::<()>::new(&engine);
    let wasmtime = churn("wasmtime", cycles, || {
        let mut store = wt::Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &module)?;
        let got = instance
            .get_typed_func::<(), i32>(&mut store, "f")?
            .call(&mut store, ())?;
        if got != 42 {
            bail!("wasmtime: f returned {got}, not 42");
        }
        Ok(())
    })?;
    wasmtime.print();
    println!(
        "ratio wasmc/wasmtime per cycle: {:.2}",
        wasmc.elapsed.as_secs_f64() / wasmtime.elapsed.as_secs_f64()
    );

    let mut ok = true;
    if wasmc.rss_growth() > RSS_TOLERANCE {
        println!(
            "FAIL: wasmc's RSS grew by {:.1} % (more than {:.0} %)",
            wasmc.rss_growth() * 100.0,
            RSS_TOLERANCE * 100.0
        );
        ok = false;
    }
    if wasmc.maps_after > wasmc.maps_before {
        println!(
            "FAIL: wasmc's mapping count grew from {} to {}",
            wasmc.maps_before, wasmc.maps_after
        );
        ok = false;
    }
    if ok {
        println!("ok: wasmc's RSS and mapping count did not grow");
    }
    Ok(ok)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("churn: {e:#}");
            ExitCode::FAILURE
        }
    }
}
