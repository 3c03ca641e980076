//! What every end-to-end test of the `wasmc` binary needs: running it (with or without
//! stdin or extra environment), paths into the repository, scratch directories, and its output
//! as text. Each test binary uses a different subset.
//!
//! Every run gets `WASMC_CACHE_DIR` pointing into Cargo's scratch directory for tests, so no
//! test ever reads or writes the compilation cache in the real home directory.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs the `wasmc` binary with `args` and an empty stdin.
pub fn wasmc(args: &[&str]) -> Output {
    wasmc_with_stdin(args, b"")
}

/// Runs the `wasmc` binary with `args`, feeding it `stdin`.
pub fn wasmc_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    wasmc_full(args, stdin, &[])
}

/// Runs the `wasmc` binary with `args` and extra environment variables (which may override
/// `WASMC_CACHE_DIR`).
pub fn wasmc_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    wasmc_full(args, b"", env)
}

/// The cache directory every test run uses unless it says otherwise: inside the target
/// directory, never in the home directory.
pub fn test_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasmc-test-cache")
}

/// A `wasmc` command with the test cache directory set, ready for arguments.
pub fn wasmc_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasmc"));
    cmd.env("WASMC_CACHE_DIR", test_cache_dir());
    cmd
}

fn wasmc_full(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut cmd = wasmc_command();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running wasmc");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("writing stdin");
    child.wait_with_output().expect("waiting for wasmc")
}

/// A path relative to the repository root, e.g. `repo_path("examples/fib.wat")`.
pub fn repo_path(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
        .display()
        .to_string()
}

/// The command's stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The command's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory unique to this test binary, process and tag, emptied when created and
/// removed afterwards.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "wasmc-{}-{}-{tag}",
            env!("CARGO_CRATE_NAME"),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a temp dir");
        TempDir(dir)
    }

    /// A path inside the directory.
    pub fn path(&self, rel: &str) -> String {
        self.0.join(rel).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
