//! What the micro-benchmarks (`benches/micro.rs`) and the churn program (`benches/churn.rs`)
//! share: the WebAssembly modules they run, the two engines' precompiled artifacts written to
//! a scratch directory, and the process readings (RSS, mapping count) the churn check uses.
//!
//! Every artifact is compiled and written once, before anything is timed: wasmc's with
//! `wasmc_compiler::compile` (its defaults: host target, `OptLevel::Speed`, epoch checks on),
//! wasmtime's with `Engine::precompile_module` on `Config::default()` plus
//! `cranelift_opt_level(Speed)`, so both load from a file as a plugin host would.
#![allow(
    dead_code,
    reason = "each bench binary includes this module and uses a different part of it"
)]

use std::path::{Path, PathBuf};

// wasmtime 48 has its own `Error` type; its `From` impl turns it into an `anyhow::Error`.
use anyhow::{Context, Result};

/// A trivial export: what a cold start runs after loading and instantiating.
pub const TRIVIAL: &str = r#"(module (func (export "f") (result i32) i32.const 42))"#;

/// What `TRIVIAL`'s `f` returns.
pub const TRIVIAL_RESULT: i32 = 42;

/// Size of the memory and of the data segment of [`data_1mib_wat`].
pub const DATA_BYTES: usize = 1 << 20;

/// A 1 MiB memory (16 pages) filled by one 1 MiB active data segment, whose `f` reads the
/// segment's last byte (so a call proves the data is there). The bytes repeat a 16-byte
/// text pattern: non-zero, so no engine can skip them as zeros.
pub fn data_1mib_wat() -> String {
    const PATTERN: &str = "0123456789abcdef";
    let pages = DATA_BYTES / 65536;
    let last = DATA_BYTES - 1;
    format!(
        r#"(module
             (memory {pages} {pages})
             (data (i32.const 0) "{data}")
             (func (export "f") (result i32) i32.const {last} i32.load8_u))"#,
        data = PATTERN.repeat(DATA_BYTES / PATTERN.len()),
    )
}

/// What `data_1mib_wat`'s `f` returns: the pattern's last byte, `f`.
pub const DATA_RESULT: i32 = b'f' as i32;

/// `run(n)` calls the imported `env.h` `n` times in a Wasm loop, threading an accumulator
/// through it: with `h(x) = x + 1` it returns `n` (for `n >= 0`), which checks that every
/// call happened.
pub const HOST_LOOP: &str = r#"(module
  (import "env" "h" (func $h (param i32) (result i32)))
  (func (export "run") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $again
        (local.set $acc (call $h (local.get $acc)))
        (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
    (local.get $acc)))"#;

/// The export the host-to-Wasm call benchmarks call.
pub const ADD: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))"#;

/// `grow()` grows the memory by one page and returns the old size in pages. The memory has
/// no maximum; both engines reserve 4 GiB for a 32-bit memory, so growing stays inside the
/// reservation (no move, no copy).
pub const GROW: &str = r#"(module
  (memory 1)
  (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#;

/// The churn module: a one-page memory, a table with one element, and an export called
/// through the table (so the table is really initialised and used).
pub const CHURN: &str = r#"(module
  (type $t (func (result i32)))
  (memory 1)
  (table 4 funcref)
  (func $answer (result i32) i32.const 42)
  (elem (i32.const 0) $answer)
  (func (export "f") (result i32)
    (i32.store (i32.const 0) (i32.const 7))
    (call_indirect (type $t) (i32.const 0))))"#;

/// The wasmtime engine every benchmark uses: the default configuration (on-demand instance
/// allocation, copy-on-write memory images, signal-based bounds checks) at Cranelift's
/// `Speed` level, the level wasmc compiles at.
pub fn wasmtime_engine() -> Result<wasmtime::Engine> {
    let mut config = wasmtime::Config::default();
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    wasmtime::Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("creating the wasmtime engine")
}

/// A directory for the artifacts of one benchmark run, removed when dropped.
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// Creates a fresh directory under the system temp dir, named after the process so
    /// concurrent runs do not collide.
    pub fn new(what: &str) -> Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("wasmc-bench-{what}-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the stale {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch { dir })
    }

    /// Compiles `wat` with both engines and writes both artifacts as `<name>.wasmc.o` and
    /// `<name>.cwasm`.
    pub fn prepare(&self, engine: &wasmtime::Engine, name: &str, wat: &str) -> Result<Prepared> {
        let wasm = wat::parse_str(wat).with_context(|| format!("parsing the `{name}` module"))?;
        let wasmc_bytes = wasmc_compiler::compile(&wasm)
            .with_context(|| format!("compiling `{name}` with wasmc"))?;
        let wasmtime_bytes = engine
            .precompile_module(&wasm)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling `{name}` with wasmtime"))?;
        let wasmc = self.dir.join(format!("{name}.wasmc.o"));
        let wasmtime = self.dir.join(format!("{name}.cwasm"));
        std::fs::write(&wasmc, &wasmc_bytes)
            .with_context(|| format!("writing {}", wasmc.display()))?;
        std::fs::write(&wasmtime, &wasmtime_bytes)
            .with_context(|| format!("writing {}", wasmtime.display()))?;
        Ok(Prepared { wasmc, wasmtime })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Best effort: a leftover directory in /tmp is harmless, and a panic here would hide
        // the benchmark's own result.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The artifact files of one module.
pub struct Prepared {
    /// wasmc's relocatable object.
    pub wasmc: PathBuf,
    /// wasmtime's `.cwasm`.
    pub wasmtime: PathBuf,
}

/// Loads a wasmc artifact, verifying its checksum (`Artifact::from_file`).
pub fn load_wasmc(path: &Path) -> wasmc_loader::Artifact {
    // SAFETY: the file was written by `Scratch::prepare` from the wasmc compiler in this very
    // process and nothing modifies it while the benchmark runs.
    unsafe { wasmc_loader::Artifact::from_file(path) }.expect("loading a wasmc artifact")
}

/// Loads a wasmc artifact without hashing it (`Artifact::from_file_unchecked`).
pub fn load_wasmc_unchecked(path: &Path) -> wasmc_loader::Artifact {
    // SAFETY: as in `load_wasmc`; the file is exactly as the compiler wrote it.
    unsafe { wasmc_loader::Artifact::from_file_unchecked(path) }.expect("loading a wasmc artifact")
}

/// Loads a wasmtime `.cwasm` (`Module::deserialize_file`).
pub fn load_wasmtime(engine: &wasmtime::Engine, path: &Path) -> wasmtime::Module {
    // SAFETY: the file was written by `Engine::precompile_module` of this same engine in this
    // process and nothing modifies it while the benchmark runs.
    unsafe { wasmtime::Module::deserialize_file(engine, path) }
        .expect("loading a wasmtime artifact")
}

/// Resident set size of this process in bytes (`/proc/self/statm`, second field).
pub fn rss_bytes() -> Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").context("reading /proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .context("/proc/self/statm has no second field")?
        .parse()
        .context("parsing the resident page count of /proc/self/statm")?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = u64::try_from(page).context("sysconf(_SC_PAGESIZE) failed")?;
    Ok(pages * page)
}

/// Number of mappings of this process (lines of `/proc/self/maps`).
pub fn mapping_count() -> Result<usize> {
    let maps = std::fs::read_to_string("/proc/self/maps").context("reading /proc/self/maps")?;
    Ok(maps.lines().count())
}
