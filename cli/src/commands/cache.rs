//! `wasmc cache dir|info|clean`: where the compilation cache of `wasmc run` is, what it holds,
//! and emptying it (only the cache's own files: other files in the directory are kept).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use wasmc_cli::cache::{Cache, default_dir};

/// Show or clear the compilation cache of `wasmc run`.
#[derive(Debug, Args)]
#[command(after_help = "\
The cache directory is --cache-dir if given, else $WASMC_CACHE_DIR, else
$XDG_CACHE_HOME/wasmc, else ~/.cache/wasmc. Entries are keyed by the Wasm binary, this
wasmc build, the target and every compile flag; a damaged entry is recompiled, never run.

Examples:
  wasmc cache dir
  wasmc cache info
  wasmc cache clean")]
pub struct CacheCommand {
    #[command(subcommand)]
    pub action: CacheAction,

    /// The cache directory [default: as `wasmc run` picks it].
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<PathBuf>,
}

/// What to do with the cache.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum CacheAction {
    /// Print the cache directory.
    Dir,
    /// Print the directory, the number of entries and their total size.
    Info,
    /// Delete every entry.
    Clean,
}

impl CacheCommand {
    /// Runs the action.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let dir = default_dir(self.cache_dir.as_deref()).context(
            "no cache directory: none of --cache-dir, WASMC_CACHE_DIR, XDG_CACHE_HOME or HOME \
             is set",
        )?;
        let cache = Cache::new(&dir);
        let shown = dir.display();
        match self.action {
            CacheAction::Dir => println!("{shown}"),
            CacheAction::Info => {
                let s = cache
                    .stats()
                    .with_context(|| format!("reading cache directory {shown}"))?;
                println!("directory: {shown}");
                println!("entries:   {}", s.entries);
                println!("size:      {} bytes", s.bytes);
            }
            CacheAction::Clean => {
                let s = cache
                    .clean()
                    .with_context(|| format!("cleaning cache directory {shown}"))?;
                println!(
                    "removed {} entries ({} bytes) from {shown}",
                    s.entries, s.bytes
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
