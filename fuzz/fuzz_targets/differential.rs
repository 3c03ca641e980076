//! The `differential` fuzz target: wasm-smith modules behave the same in wasmc and in wasmi.
//! The logic lives in `wasmc_fuzzing::differential` (with a smoke test under `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = wasmc_fuzzing::differential::run(data);
});
