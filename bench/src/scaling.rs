//! Compile time by thread count: each engine compiling on one CPU versus on all of them.
//!
//! wasmc has no thread-count option: `compiler/src/layout.rs` sizes its worker pool with
//! `std::thread::available_parallelism()`, which on Linux honours the calling thread's CPU
//! affinity. So the one-CPU compile runs on a thread pinned to one CPU (its workers inherit
//! the mask). wasmtime gets the same pinned thread and `parallel_compilation(false)`.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::programs::Program;
use crate::runtime::Runtime;
use crate::stats::Stat;

/// One program's compile times on one CPU and on all, for both engines.
#[derive(Debug, Clone, Serialize)]
pub struct ScalingRow {
    /// The program.
    pub program: String,
    /// wasmc on one CPU, seconds.
    pub wasmc_one: Stat,
    /// wasmc on every CPU.
    pub wasmc_all: Stat,
    /// wasmtime on one CPU without parallel compilation.
    pub wasmtime_one: Stat,
    /// wasmtime with its default parallel compilation.
    pub wasmtime_all: Stat,
}

/// Measures every program `reps` times, interleaving the four configurations.
///
/// # Errors
///
/// A compile failure, or the affinity cannot be limited to one CPU.
pub fn measure<A: Runtime + Sync, B: Runtime + Sync, C: Runtime + Sync>(
    wasmc: &A,
    wasmtime_parallel: &B,
    wasmtime_serial: &C,
    programs: &[&Program],
    reps: usize,
) -> Result<Vec<ScalingRow>> {
    let mut rows = Vec::new();
    for p in programs {
        let mut samples: [Vec<f64>; 4] = Default::default();
        for _ in 0..reps {
            samples[0].push(on_one_cpu(|| time_compile(wasmc, &p.wasm))??);
            samples[1].push(time_compile(wasmc, &p.wasm)?);
            samples[2].push(on_one_cpu(|| time_compile(wasmtime_serial, &p.wasm))??);
            samples[3].push(time_compile(wasmtime_parallel, &p.wasm)?);
        }
        let [a, b, c, d] = samples.map(|s| Stat::of(s).unwrap_or_default());
        eprintln!(
            "scaling {}: wasmc {:.1} -> {:.1} ms, wasmtime {:.1} -> {:.1} ms",
            p.name,
            a.median * 1e3,
            b.median * 1e3,
            c.median * 1e3,
            d.median * 1e3
        );
        rows.push(ScalingRow {
            program: p.name.clone(),
            wasmc_one: a,
            wasmc_all: b,
            wasmtime_one: c,
            wasmtime_all: d,
        });
    }
    Ok(rows)
}

fn time_compile<R: Runtime>(rt: &R, wasm: &[u8]) -> Result<f64> {
    let t = Instant::now();
    let artifact = rt.compile(wasm)?;
    let secs = t.elapsed().as_secs_f64();
    drop(artifact);
    Ok(secs)
}

/// Runs `f` on a new thread restricted to one CPU of this process's affinity mask.
fn on_one_cpu<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            pin_to_one_cpu()?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|_| bail!("the one-CPU compile thread panicked"))
    })
}

fn pin_to_one_cpu() -> Result<()> {
    // SAFETY: `cpu_set_t` is plain data for which all zeroes is a valid (empty) set; the
    // calls get its exact size, and pid 0 means the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        if libc::sched_getaffinity(0, size, &mut set) != 0 {
            return Err(std::io::Error::last_os_error()).context("sched_getaffinity");
        }
        let max = usize::try_from(libc::CPU_SETSIZE).unwrap_or(1024);
        let Some(cpu) = (0..max).find(|&c| libc::CPU_ISSET(c, &set)) else {
            bail!("the affinity mask is empty");
        };
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut one);
        if libc::sched_setaffinity(0, size, &one) != 0 {
            return Err(std::io::Error::last_os_error()).context("sched_setaffinity");
        }
    }
    let n = std::thread::available_parallelism().map_or(0, |n| n.get());
    if n != 1 {
        bail!("pinned to one CPU, yet available_parallelism() is {n}");
    }
    Ok(())
}
