//! Native builds: compiling the harness's own C programs with gcc when their binaries are
//! missing, and timing a native binary as a subprocess.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::runtime::Output;

/// Builds `native/<name>.gcc` for every `<name>.c` in `dir` that has none yet, with the
/// flags of `bench/programs/build.sh`. A failed build is a warning: that program's native
/// column is then empty.
pub fn build_missing(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut sources: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    for src in sources {
        let Some(stem) = src.file_stem() else {
            continue;
        };
        let out = dir
            .join("native")
            .join(format!("{}.gcc", stem.to_string_lossy()));
        if out.exists() {
            continue;
        }
        if let Err(e) = gcc(&src, &out) {
            eprintln!("warning: no native build of {}: {e:#}", src.display());
        }
    }
}

fn gcc(src: &Path, out: &Path) -> Result<()> {
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    // -ffp-contract=off: no FMA contraction, so float results match the Wasm build's.
    let status = Command::new("gcc")
        .args(["-O2", "-ffp-contract=off", "-o"])
        .arg(out)
        .arg(src)
        .status()
        .context("running gcc")?;
    if !status.success() {
        bail!("gcc failed ({status})");
    }
    eprintln!("built {}", out.display());
    Ok(())
}

/// Runs `binary scale` once; returns the wall time in seconds (spawn to exit, so process
/// start-up is included) and what it printed.
///
/// # Errors
///
/// The binary cannot be started or exits unsuccessfully.
pub fn run(binary: &Path, scale: u32) -> Result<(f64, Output)> {
    let t = Instant::now();
    let out = Command::new(binary)
        .arg(scale.to_string())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{} {scale} failed ({}): {}",
            binary.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok((
        secs,
        Output {
            stdout: out.stdout,
            stderr: out.stderr,
        },
    ))
}
