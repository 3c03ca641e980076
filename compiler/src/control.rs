//! [`CompileControl`]: cancelling a compilation from another thread and watching its
//! progress (the compile-side "context", as wazero's `CompileModule(ctx, ...)`).
//!
//! The compiler polls the cancel flag before validation, before each function (on every
//! worker thread) and before writing the artifact, so a cancelled compile stops within
//! about the time of one function's compilation and returns [`crate::CompileError::Cancelled`].
//! Progress is reported after each defined function is compiled, from the worker thread that
//! compiled it, as `(done, total)` with `done` strictly increasing up to `total`.
//! Phase timings, when asked for with [`CompileControl::on_phase`], are reported once per
//! phase, on the calling thread, as soon as the phase ends (see [`PHASES`] for their names).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::CompileError;

/// The progress callback: `(functions compiled so far, defined functions in the module)`.
pub type ProgressFn = dyn Fn(usize, usize) + Send + Sync;

/// The phase-timing callback: `(phase name, wall-clock time it took)`.
pub type PhaseFn = dyn Fn(&str, Duration) + Send + Sync;

/// The phases [`CompileControl::on_phase`] reports, in order: `validate` (parsing and
/// validating the module, building its description), `codegen` (translating every function
/// to Cranelift IR, compiling it and laying `.text` out, on the worker threads) and `emit`
/// (writing the artifact's object file in memory).
pub const PHASES: [&str; 3] = ["validate", "codegen", "emit"];

/// Cancellation, progress and phase timings for [`crate::Compiler::compile_with`].
#[derive(Clone, Default)]
pub struct CompileControl {
    cancel: Arc<AtomicBool>,
    progress: Option<Arc<ProgressFn>>,
    phase: Option<Arc<PhaseFn>>,
}

impl fmt::Debug for CompileControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompileControl")
            .field("cancelled", &self.is_cancelled())
            .field("progress", &self.progress.is_some())
            .field("phase", &self.phase.is_some())
            .finish()
    }
}

impl CompileControl {
    /// No cancellation requested, no progress callback.
    pub fn new() -> CompileControl {
        CompileControl::default()
    }

    /// Uses `flag` as the cancel flag (set it to `true`, from any thread, to cancel).
    pub fn with_cancel_flag(mut self, flag: Arc<AtomicBool>) -> CompileControl {
        self.cancel = flag;
        self
    }

    /// Calls `f(done, total)` after each defined function is compiled. It runs on the
    /// compiler's worker threads, so it must be quick and thread-safe.
    pub fn on_progress(
        mut self,
        f: impl Fn(usize, usize) + Send + Sync + 'static,
    ) -> CompileControl {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Calls `f(phase, elapsed)` when each compilation phase ends (names in [`PHASES`]), on
    /// the thread that called `compile_with`. A phase that fails is not reported.
    pub fn on_phase(
        mut self,
        f: impl Fn(&str, Duration) + Send + Sync + 'static,
    ) -> CompileControl {
        self.phase = Some(Arc::new(f));
        self
    }

    /// The cancel flag, to hand to another thread.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    /// Requests cancellation (same as setting the flag).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancellation was requested.
    pub(crate) fn check(&self) -> Result<(), CompileError> {
        if self.is_cancelled() {
            Err(CompileError::Cancelled)
        } else {
            Ok(())
        }
    }

    pub(crate) fn report(&self, done: usize, total: usize) {
        if let Some(p) = &self.progress {
            p(done, total);
        }
    }

    /// Reports that `phase` (one of [`PHASES`]) ran from `start` until now, and returns now
    /// as the start of the next phase.
    pub(crate) fn phase_done(&self, phase: &str, start: Instant) -> Instant {
        let now = Instant::now();
        if let Some(p) = &self.phase {
            p(phase, now.saturating_duration_since(start));
        }
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn many_functions(n: usize) -> Vec<u8> {
        let mut wat = String::from("(module");
        for i in 0..n {
            wat.push_str(&format!(
                "(func (export \"f{i}\") (param i32) (result i32) local.get 0 i32.const {i} i32.add)"
            ));
        }
        wat.push(')');
        wat::parse_str(&wat).unwrap()
    }

    #[test]
    fn progress_counts_every_function_once() {
        let wasm = many_functions(40);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let control =
            CompileControl::new().on_progress(move |d, t| s2.lock().unwrap().push((d, t)));
        crate::Compiler::new(&crate::CompileOptions::new())
            .unwrap()
            .compile_with(&wasm, &control)
            .unwrap();
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_unstable();
        let expected: Vec<_> = (1..=40).map(|d| (d, 40)).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn phases_are_reported_once_each_in_order() {
        let wasm = many_functions(3);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let control =
            CompileControl::new().on_phase(move |p, _| s2.lock().unwrap().push(p.to_owned()));
        crate::Compiler::new(&crate::CompileOptions::new())
            .unwrap()
            .compile_with(&wasm, &control)
            .unwrap();
        assert_eq!(*seen.lock().unwrap(), PHASES);
        // A module that fails validation reports no phase at all.
        seen.lock().unwrap().clear();
        let r = crate::Compiler::new(&crate::CompileOptions::new())
            .unwrap()
            .compile_with(b"\0asm\x01\0\0\0\xff", &control);
        assert!(r.is_err());
        assert!(seen.lock().unwrap().is_empty());
    }

    #[test]
    fn a_cancelled_compile_returns_cancelled() {
        let wasm = many_functions(200);
        let control = CompileControl::new();
        let flag = control.cancel_flag();
        // Cancel from the progress callback, as another thread would: mid-compilation.
        let control = control.on_progress(move |d, _| {
            if d == 5 {
                flag.store(true, Ordering::Relaxed);
            }
        });
        let r = crate::Compiler::new(&crate::CompileOptions::new())
            .unwrap()
            .compile_with(&wasm, &control);
        assert_eq!(r, Err(CompileError::Cancelled));
        // Cancelled before starting.
        let control = CompileControl::new();
        control.cancel();
        let r = crate::Compiler::new(&crate::CompileOptions::new())
            .unwrap()
            .compile_with(&wasm, &control);
        assert_eq!(r, Err(CompileError::Cancelled));
    }
}
