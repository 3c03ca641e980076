//! The compilation cache of `wasmc run`: artifacts compiled from `.wasm`/`.wat` input, stored
//! under a key that names everything the code depends on, so the next run of the same module
//! loads instead of compiling (as wazero's `CompilationCache`).
//!
//! - Key: blake3 of a version tag, this `wasmc` build (package version plus the executable's
//!   size and modification time, so a rebuilt compiler never reuses its predecessor's code),
//!   the target, and the `Debug` form of the [`CompileOptions`] (every compile flag: CPU level,
//!   optimisation level, Wasm features, epoch checks, fuel, including flags added later),
//!   then the Wasm binary itself.
//! - Entry: `<dir>/<64 hex digits of the key>.wasmc.o`, an ordinary artifact.
//! - Writes go to a uniquely named temporary file in the same directory, then `rename` over
//!   the entry: readers see either no entry or a whole one, and concurrent writers of the same
//!   key both succeed (the last rename wins; both wrote the same bytes).
//! - Reads use the loader's checked load (header, target, CPU, layout hash and the
//!   whole-artifact checksum). An entry that fails it (damaged, or written by another wasmc
//!   or for another machine) is deleted and the module compiled again: it is never run.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use wasmc_compiler::CompileOptions;

/// The file-name suffix of cache entries (also what `wasmc cache clean` removes).
pub const ENTRY_SUFFIX: &str = ".wasmc.o";

/// The prefix of temporary files being written (removed by `clean` too).
pub const TEMP_PREFIX: &str = ".tmp-";

/// Bumped when the key's inputs or the entry format change.
const KEY_VERSION: &str = "wasmc-cache-v1";

/// Where the cache lives, by precedence: `explicit` (`--cache-dir`), `$WASMC_CACHE_DIR`,
/// `$XDG_CACHE_HOME/wasmc`, `$HOME/.cache/wasmc`. `None` when none of them is set.
pub fn default_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("WASMC_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(xdg) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(xdg).join("wasmc"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("wasmc"))
}

/// A cache directory (created on first store).
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// What a cache directory holds, for `wasmc cache info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Number of entries.
    pub entries: u64,
    /// Their total size in bytes.
    pub bytes: u64,
}

impl Cache {
    /// The cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of `wasm` compiled with `options`, as 64 hex digits.
    pub fn key(options: &CompileOptions, wasm: &[u8]) -> String {
        let mut h = blake3::Hasher::new();
        // Every field is length-prefixed so that no two different inputs hash alike.
        let mut field = |bytes: &[u8]| {
            h.update(&(bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(KEY_VERSION.as_bytes());
        field(env!("CARGO_PKG_VERSION").as_bytes());
        field(build_identity().as_bytes());
        field(format!("{options:?}").as_bytes());
        field(wasm);
        h.finalize().to_hex().to_string()
    }

    /// The path of the entry for `key`.
    pub fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}{ENTRY_SUFFIX}"))
    }

    /// Writes `artifact` as the entry for `key`, atomically: a temporary file in the same
    /// directory, flushed, then renamed over the entry.
    ///
    /// # Errors
    ///
    /// The I/O error, naming the path, when the directory cannot be created or written.
    pub fn store(&self, key: &str, artifact: &[u8]) -> anyhow::Result<PathBuf> {
        use anyhow::Context;
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating cache directory {}", self.dir.display()))?;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // Unique among processes (pid) and among threads of one process (thread id, time).
        let thread: String = format!("{:?}", std::thread::current().id())
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let tmp = self.dir.join(format!(
            "{TEMP_PREFIX}{}-{thread}-{nanos}-{key}",
            std::process::id()
        ));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(artifact)?;
            f.sync_all()?;
            std::fs::rename(&tmp, self.entry_path(key))
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("writing cache entry {}", tmp.display()));
        }
        Ok(self.entry_path(key))
    }

    /// Deletes the entry for `key` (a damaged or foreign one); a missing entry is fine, as
    /// another run may have deleted or replaced it first.
    pub fn remove(&self, key: &str) {
        let _ = std::fs::remove_file(self.entry_path(key));
    }

    /// The cache's own files in the directory: entries (named by a key) and temporary files.
    /// Anything else in the directory is not ours and is left alone.
    fn own_files(&self) -> std::io::Result<Vec<(PathBuf, u64, bool)>> {
        let read = match std::fs::read_dir(&self.dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut files = Vec::new();
        for entry in read {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let is_entry = name
                .strip_suffix(ENTRY_SUFFIX)
                .is_some_and(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()));
            let is_temp = name.starts_with(TEMP_PREFIX);
            let meta = entry.metadata()?;
            if (is_entry || is_temp) && meta.is_file() {
                files.push((entry.path(), meta.len(), is_entry));
            }
        }
        Ok(files)
    }

    /// Counts the entries and their size.
    ///
    /// # Errors
    ///
    /// The I/O error when the directory exists but cannot be read.
    pub fn stats(&self) -> std::io::Result<CacheStats> {
        let mut s = CacheStats::default();
        for (_, len, is_entry) in self.own_files()? {
            if is_entry {
                s.entries += 1;
                s.bytes += len;
            }
        }
        Ok(s)
    }

    /// Deletes every entry and leftover temporary file, returning what was removed.
    ///
    /// # Errors
    ///
    /// The first I/O error (other than a file already gone).
    pub fn clean(&self) -> std::io::Result<CacheStats> {
        let mut s = CacheStats::default();
        for (path, len, is_entry) in self.own_files()? {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    if is_entry {
                        s.entries += 1;
                        s.bytes += len;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(s)
    }
}

/// Identifies this build of `wasmc`: two builds of the same version with different code must
/// not share entries. The executable's size and modification time change on every rebuild.
fn build_identity() -> String {
    let exe = std::env::current_exe().ok();
    let meta = exe.as_ref().and_then(|p| std::fs::metadata(p).ok());
    match meta {
        Some(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{mtime}", m.len())
        }
        None => String::from("unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmc_compiler::OptLevel;

    #[test]
    fn keys_depend_on_options_and_input() {
        let o = CompileOptions::new();
        let k = Cache::key(&o, b"\0asm\x01\0\0\0");
        assert_eq!(k.len(), 64);
        assert_eq!(k, Cache::key(&o, b"\0asm\x01\0\0\0"));
        assert_ne!(k, Cache::key(&o, b"\0asm\x01\0\0\0\0"));
        let o2 = CompileOptions::new().opt_level(OptLevel::None);
        assert_ne!(k, Cache::key(&o2, b"\0asm\x01\0\0\0"));
        let o3 = CompileOptions::new().epoch_interruption(false);
        assert_ne!(k, Cache::key(&o3, b"\0asm\x01\0\0\0"));
    }

    #[test]
    fn store_stats_clean_leave_other_files_alone() {
        let dir = std::env::temp_dir().join(format!("wasmc-cache-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = Cache::new(&dir);
        assert_eq!(cache.stats().unwrap(), CacheStats::default());
        let key = "a".repeat(64);
        let path = cache.store(&key, b"12345").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"12345");
        std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
        assert_eq!(
            cache.stats().unwrap(),
            CacheStats {
                entries: 1,
                bytes: 5
            }
        );
        assert_eq!(cache.clean().unwrap().entries, 1);
        assert_eq!(cache.stats().unwrap().entries, 0);
        assert!(dir.join("notes.txt").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn explicit_dir_wins() {
        assert_eq!(
            default_dir(Some(Path::new("/x/y"))),
            Some(PathBuf::from("/x/y"))
        );
    }
}
