//! The `artifact` fuzz target: mutated artifacts never crash the loader.
//! The logic lives in `wasmc_fuzzing::artifact` (with a smoke test under `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = wasmc_fuzzing::artifact::run(data);
});
