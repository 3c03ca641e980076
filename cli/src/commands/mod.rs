//! The subcommands, one per file: each is a clap `Args` struct with an `execute` method that
//! returns the process exit status, or an error for `main` to print.

mod build;
mod inspect;
mod run;
mod wast;

use std::process::ExitCode;

use clap::Subcommand;

pub use build::BuildCommand;
pub use inspect::InspectCommand;
pub use run::RunCommand;
pub use wast::WastCommand;

/// A `wasmc` subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile a Wasm module ahead of time into a native object file (an "artifact").
    Build(BuildCommand),
    /// Run a Wasm module, WAT file or artifact.
    Run(RunCommand),
    /// Print what an artifact holds: versions, target, imports, exports, sizes, checksum.
    Inspect(InspectCommand),
    /// Run WebAssembly spec-test scripts (.wast).
    Wast(WastCommand),
}

impl Command {
    /// Runs the subcommand.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Build(c) => c.execute(),
            Command::Run(c) => c.execute(),
            Command::Inspect(c) => c.execute(),
            Command::Wast(c) => c.execute(),
        }
    }
}
