//! The `wasmc` command: parses the command line with clap and dispatches to one subcommand per
//! file in `commands/`. Exit status: 0 on success, 134 when Wasm code trapped (like a process
//! killed by `abort`, as `wasmtime run` reports it), the guest's own status when it exits
//! through WASI `proc_exit`, 124 when `run --timeout` stopped it, and 1 for every other error.
#![deny(unsafe_code)]

mod commands;

use std::process::ExitCode;

use clap::Parser;

use commands::Command;

/// Ahead-of-time WebAssembly compiler: build Wasm into a native object, run it, check it
/// against a host, run spec tests.
#[derive(Debug, Parser)]
#[command(name = "wasmc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The whole command-line definition, for `wasmc completions` and `wasmc man`.
pub(crate) fn cli_command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.execute() {
        Ok(code) => code,
        Err(e) => {
            eprint!("{}", wasmc_cli::diagnostic::render(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_arguments_after_the_file_belong_to_the_guest() {
        let cli = Cli::try_parse_from([
            "wasmc", "run", "--invoke", "f", "m.wat", "1", "--invoke", "-5",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.invoke.as_deref(), Some("f"));
        assert_eq!(run.file.to_str(), Some("m.wat"));
        assert_eq!(run.args, ["1", "--invoke", "-5"]);
    }

    #[test]
    fn build_parses_target_and_opt_level() {
        let cli = Cli::try_parse_from([
            "wasmc",
            "build",
            "a.wat",
            "-o",
            "a.o",
            "--target",
            "aarch64-apple-darwin",
            "-O",
            "speed_and_size",
        ])
        .unwrap();
        let Command::Build(build) = cli.command else {
            panic!("not build")
        };
        assert_eq!(
            build.output.as_deref().and_then(|p| p.to_str()),
            Some("a.o")
        );
        assert_eq!(build.target.as_deref(), Some("aarch64-apple-darwin"));
        assert!(Cli::try_parse_from(["wasmc", "build", "a.wat", "-O", "fast"]).is_err());
    }

    #[test]
    fn tooling_subcommands_parse() {
        assert!(
            Cli::try_parse_from(["wasmc", "check", "p.wasm"]).is_err(),
            "--host is required"
        );
        assert!(Cli::try_parse_from(["wasmc", "check", "p.wasm", "--host", "h.toml"]).is_ok());
        assert!(Cli::try_parse_from(["wasmc", "cache", "clean", "--cache-dir", "d"]).is_ok());
        assert!(Cli::try_parse_from(["wasmc", "cache"]).is_err());
        assert!(Cli::try_parse_from(["wasmc", "completions", "zsh"]).is_ok());
        assert!(Cli::try_parse_from(["wasmc", "man", "run", "--out-dir", "d"]).is_err());
        let cli = Cli::try_parse_from([
            "wasmc",
            "run",
            "-v",
            "--no-cache",
            "--fuel",
            "10",
            "--profile=perfmap",
            "m.wasm",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert!(run.verbose && run.no_cache);
        assert_eq!(run.fuel, Some(10));
        assert!(
            Cli::try_parse_from(["wasmc", "run", "--no-cache", "--cache-dir", "d", "m.wasm"])
                .is_err()
        );
    }

    #[test]
    fn wast_needs_a_file() {
        assert!(Cli::try_parse_from(["wasmc", "wast"]).is_err());
        assert!(Cli::try_parse_from(["wasmc", "wast", "a.wast", "b.wast"]).is_ok());
    }
}
