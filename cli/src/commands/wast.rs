//! `wasmc wast`: run WebAssembly spec-test scripts through the whole AOT path (compile, load,
//! link, run) and report what passed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

/// Run WebAssembly spec-test scripts (.wast).
#[derive(Debug, Args)]
#[command(after_help = "\
Prints `FILE: N passed, M failed` for each script, followed by its failures, and exits with
status 1 if anything failed.

Examples:
  wasmc wast tests/misc_testsuite/multi_value.wast
  wasmc wast ~/testsuite/*.wast")]
pub struct WastCommand {
    /// The scripts to run.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

impl WastCommand {
    /// Runs every script, even after a failing one.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let mut any_failed = false;
        for file in &self.files {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {name}"))?;
            let report = wasmc_cli::wast::run_wast(&name, &text);
            println!("{name}: {} passed, {} failed", report.passed, report.failed);
            for failure in &report.failures {
                println!("  {failure}");
            }
            any_failed |= !report.is_success();
        }
        Ok(if any_failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    }
}
