//! The subcommands, one per file: each is a clap `Args` struct with an `execute` method that
//! returns the process exit status, or an error for `main` to print.

mod build;
mod cache;
mod check;
mod completions;
mod inspect;
mod man;
mod run;
mod timings;
mod wast;

use std::process::ExitCode;

use clap::Subcommand;

pub use build::BuildCommand;
pub use cache::CacheCommand;
pub use check::CheckCommand;
pub use completions::CompletionsCommand;
pub use inspect::InspectCommand;
pub use man::ManCommand;
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
    /// Check offline that a plugin links against a host manifest.
    Check(CheckCommand),
    /// Show or clear the compilation cache of `wasmc run`.
    Cache(CacheCommand),
    /// Run WebAssembly spec-test scripts (.wast).
    Wast(WastCommand),
    /// Print a shell completion script.
    Completions(CompletionsCommand),
    /// Print the man page (roff), or write every page to a directory.
    Man(ManCommand),
}

impl Command {
    /// Runs the subcommand.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Build(c) => c.execute(),
            Command::Run(c) => c.execute(),
            Command::Inspect(c) => c.execute(),
            Command::Check(c) => c.execute(),
            Command::Cache(c) => c.execute(),
            Command::Wast(c) => c.execute(),
            Command::Completions(c) => c.execute(),
            Command::Man(c) => c.execute(),
        }
    }
}
