//! `-v`/`--verbose` output of `build` and `run`: what each phase took and what the cache did,
//! on stderr (stdout belongs to the program's output).

use std::time::{Duration, Instant};

use wasmc_compiler::CompileControl;

/// Prints phase timings as each phase ends, when verbose.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    verbose: bool,
}

impl Timings {
    /// Timings that print only when `verbose`.
    pub fn new(verbose: bool) -> Timings {
        Timings { verbose }
    }

    /// Prints that `phase` took `elapsed`.
    pub fn record(&self, phase: &str, elapsed: Duration) {
        if self.verbose {
            eprintln!(
                "timing: {phase:<22} {:>10.3} ms",
                elapsed.as_secs_f64() * 1e3
            );
        }
    }

    /// Records `phase` as running from `start` until now; returns now.
    pub fn since(&self, phase: &str, start: Instant) -> Instant {
        let now = Instant::now();
        self.record(phase, now.saturating_duration_since(start));
        now
    }

    /// Prints a note (cache hits and misses) when verbose.
    pub fn note(&self, text: &str) {
        if self.verbose {
            eprintln!("{text}");
        }
    }

    /// Adds a phase callback to `control` that records the compiler's internal phases as
    /// `compile: validate`, `compile: codegen`, `compile: emit`.
    pub fn watch(&self, control: CompileControl) -> CompileControl {
        let me = *self;
        control.on_phase(move |phase, elapsed| me.record(&format!("compile: {phase}"), elapsed))
    }

    /// Prints the time since `start`, the whole command.
    pub fn total(&self, start: Instant) {
        if self.verbose {
            eprintln!(
                "timing: {:<22} {:>10.3} ms",
                "total",
                start.elapsed().as_secs_f64() * 1e3
            );
        }
    }
}
