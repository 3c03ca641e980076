//! The `compile` fuzz target: wasm-smith modules always compile or give a validation error, never panic.
//! The logic lives in `wasmc_fuzzing::compile` (with a smoke test under `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = wasmc_fuzzing::compile::run(data);
});
