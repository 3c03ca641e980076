//! `wasmc_cli`: the logic behind the `wasmc` command that is worth testing on its own.
//!
//! - [`wast`]: the spec-script runner (`wasmc wast`, and the workspace's `tests/wast.rs`);
//! - [`spectest`]: the `spectest` host module those scripts import;
//! - [`values`]: parsing `wasmc run --invoke` arguments and printing results;
//! - [`input`]: turning a `.wasm`, `.wat` or artifact file into something the loader can run;
//! - [`cache`]: the compilation cache of `wasmc run`;
//! - [`modinfo`]: imports and exports of a module without compiling it, and which function a
//!   byte offset falls in;
//! - [`check`]: the host manifest and the offline link check of `wasmc check`;
//! - [`diagnostic`]: rustc-style error messages (what, where, hint).
//!
//! The binary (`src/main.rs`, `src/commands/`) only parses the command line and calls these.
//!
//! Unsafe code is denied; the one exception is loading the bytes our own compiler has just
//! produced ([`input::compile_and_load`]), where the loader's `unsafe` contract is met by
//! construction.
#![deny(unsafe_code)]

pub mod cache;
pub mod check;
pub mod diagnostic;
pub mod input;
pub mod modinfo;
pub mod spectest;
pub mod values;
pub mod wast;
