//! The logic of wasmc's fuzz targets, shared by the cargo-fuzz crate in `fuzz/` (libFuzzer
//! drives it for long runs) and by a seeded smoke test per target that `cargo test` runs, so CI
//! exercises every target without a nightly compiler. See docs/FUZZING.md.
//!
//! - [`compile`]: any wasm-smith module compiles or is refused with an error; a module using
//!   only the features wasmc supports always compiles, and its artifact parses.
//! - [`differential`]: wasm-smith modules run in wasmc and in wasmi (the oracle) give the
//!   same results, traps, globals and memories.
//! - [`artifact`]: mutated artifacts never crash the loader.
//!
//! Each target's `run` takes the raw fuzzer input and panics only when it found a bug: that
//! is what makes libFuzzer record a crash. It returns whether the input was exercised (long
//! enough to build a module and run the checks), which the smoke tests count.

#![allow(
    unsafe_code,
    reason = "the targets load artifacts, which is unsafe; each call says why it is sound"
)]

pub mod artifact;
pub mod compile;
pub mod differential;

use arbitrary::Unstructured;

/// A wasm-smith configuration for the features wasmc compiles (WebAssembly 2.0 without SIMD),
/// with `base`'s shape (sizes, counts, which instructions) and small memories and tables so a
/// run stays fast and host memory use bounded.
pub fn supported_config(base: wasm_smith::Config) -> wasm_smith::Config {
    let mut c = base;
    c.simd_enabled = false;
    c.relaxed_simd_enabled = false;
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.tail_call_enabled = false;
    c.exceptions_enabled = false;
    c.gc_enabled = false;
    c.memory64_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.wide_arithmetic_enabled = false;
    c.extended_const_enabled = false;
    c.compact_imports_enabled = false;
    c.acquire_release_atomics_enabled = false;
    c.multibyte_array_access_enabled = false;
    c.custom_descriptors_enabled = false;
    // Wasm 2.0: one memory; bulk memory and reference types are in.
    c.max_memories = c.max_memories.min(1);
    c.max_memory32_bytes = c.max_memory32_bytes.min(16 * 65536);
    c.memory_max_size_required = true;
    c.max_tables = c.max_tables.min(4);
    c.max_table_elements = c.max_table_elements.min(1000);
    c.table_max_size_required = true;
    c.max_funcs = c.max_funcs.min(50);
    c.max_instructions = c.max_instructions.min(1000);
    c.max_data_segments = c.max_data_segments.min(20);
    c.max_element_segments = c.max_element_segments.min(20);
    c.max_elements = c.max_elements.min(100);
    c.allow_invalid_funcs = false;
    c
}

/// A small deterministic generator of fuzzer-like inputs for the smoke tests (xorshift64*):
/// the same seed gives the same inputs on every machine, so a smoke failure reproduces.
#[derive(Debug, Clone)]
pub struct SmokeRng(u64);

impl SmokeRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> SmokeRng {
        SmokeRng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64().to_le_bytes()[0]).collect()
    }
}

/// Runs `target` over `iterations` seeded random inputs of 0..`max_len` bytes and returns
/// how many of them it exercised (`target` returned true: the input was long enough to
/// build a module and run the checks).
pub fn smoke(
    seed: u64,
    iterations: usize,
    max_len: usize,
    mut target: impl FnMut(&[u8]) -> bool,
) -> usize {
    let mut rng = SmokeRng::new(seed);
    let mut exercised = 0;
    for _ in 0..iterations {
        let len = usize::try_from(rng.next_u64() % (max_len as u64 + 1)).unwrap_or(max_len);
        let input = rng.bytes(len);
        if target(&input) {
            exercised += 1;
        }
    }
    exercised
}

/// Builds a wasm-smith module from `u` with `config`, or `None` if the input ran out first.
pub fn smith_module(
    config: wasm_smith::Config,
    u: &mut Unstructured<'_>,
) -> Option<wasm_smith::Module> {
    wasm_smith::Module::new(config, u).ok()
}

/// Writes the module under test to the file named by `WASMC_FUZZ_DUMP`, if set, so the module
/// of a failing input can be examined (`wasm-tools print`, `wasmc inspect`) after the panic.
pub fn dump(wasm: &[u8]) {
    if let Some(path) = std::env::var_os("WASMC_FUZZ_DUMP") {
        let _ = std::fs::write(path, wasm);
    }
}

/// Runs a target over every file of a directory (a libFuzzer corpus or a crash file), for
/// reproducing a finding under `cargo test` and for measuring what a corpus covers.
/// Returns how many inputs were exercised.
pub fn replay(path: &std::path::Path, target: impl Fn(&[u8]) -> bool) -> std::io::Result<usize> {
    let files = if path.is_dir() {
        let mut v: Vec<_> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    let mut exercised = 0;
    for f in files {
        if target(&std::fs::read(&f)?) {
            exercised += 1;
        }
    }
    Ok(exercised)
}

#[cfg(test)]
mod tests {
    /// `WASMC_FUZZ_REPLAY=differential:fuzz/corpus/differential cargo test -p wasmc-fuzzing
    /// replay -- --ignored --nocapture` replays a corpus (or one crash file) through a target.
    #[test]
    #[ignore = "needs WASMC_FUZZ_REPLAY=target:path"]
    fn replay() {
        let spec = std::env::var("WASMC_FUZZ_REPLAY").expect("WASMC_FUZZ_REPLAY=target:path");
        let (target, path) = spec.split_once(':').expect("target:path");
        let run: fn(&[u8]) -> bool = match target {
            "compile" => crate::compile::run,
            "differential" => crate::differential::run,
            "artifact" => crate::artifact::run,
            t => panic!("unknown target {t}"),
        };
        let n = super::replay(std::path::Path::new(path), run).expect("reading the inputs");
        eprintln!(
            "{n} inputs exercised; differential: {:?}",
            crate::differential::STATS
        );
    }
}
