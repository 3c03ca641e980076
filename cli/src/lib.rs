//! `wasmc_cli`: the logic behind the `wasmc` command that is worth testing on its own.
//!
//! - [`wast`]: the spec-script runner (`wasmc wast`, and the workspace's `tests/wast.rs`);
//! - [`spectest`]: the `spectest` host module those scripts import;
//! - [`values`]: parsing `wasmc run --invoke` arguments and printing results;
//! - [`input`]: turning a `.wasm`, `.wat` or artifact file into something the loader can run.
//!
//! The binary (`src/main.rs`, `src/commands/`) only parses the command line and calls these.
//!
//! Unsafe code is denied; the one exception is loading the bytes our own compiler has just
//! produced ([`input::compile_and_load`]), where the loader's `unsafe` contract is met by
//! construction.
#![deny(unsafe_code)]

pub mod input;
pub mod spectest;
pub mod values;
pub mod wast;
