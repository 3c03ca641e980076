//! The compilation cache of `wasmc run` end to end, always in a scratch directory: the second
//! run hits, a damaged entry is recompiled (never run), concurrent runs both succeed, the
//! key follows the compile flags, `--no-cache` touches nothing, and `wasmc cache` shows and
//! empties it.

mod common;

use std::path::{Path, PathBuf};

use common::{TempDir, repo_path, stderr, stdout, wasmc, wasmc_env};

fn entries(dir: &str) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = read
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".wasmc.o"))
        .collect();
    v.sort();
    v
}

fn run_fib(cache: &str, extra: &[&str]) -> std::process::Output {
    let fib = repo_path("examples/fib.wat");
    let mut args = vec!["run", "-v", "--cache-dir", cache];
    args.extend_from_slice(extra);
    args.extend(["--invoke", "fib", &fib, "20"]);
    wasmc(&args)
}

#[test]
fn second_run_hits_and_clean_empties() {
    let dir = TempDir::new("hit");
    let cache = dir.path("cache");
    let o = run_fib(&cache, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "6765\n");
    assert!(stderr(&o).contains("cache miss:"), "{}", stderr(&o));
    let first = entries(&cache);
    assert_eq!(first.len(), 1, "{first:?}");
    let mtime = std::fs::metadata(&first[0]).unwrap().modified().unwrap();

    let o = run_fib(&cache, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "6765\n");
    let err = stderr(&o);
    assert!(err.contains("cache hit:"), "{err}");
    assert!(
        !err.contains("compile: codegen"),
        "a hit must not compile:\n{err}"
    );
    assert_eq!(entries(&cache), first);
    assert_eq!(
        std::fs::metadata(&first[0]).unwrap().modified().unwrap(),
        mtime
    );

    // Another flag is another entry.
    let o = run_fib(&cache, &["-O", "none"]);
    assert!(stderr(&o).contains("cache miss:"), "{}", stderr(&o));
    assert_eq!(entries(&cache).len(), 2);

    let o = wasmc(&["cache", "info", "--cache-dir", &cache]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("entries:   2"), "{}", stdout(&o));
    // A file that is not ours survives `clean`.
    std::fs::write(Path::new(&cache).join("README"), "keep me").unwrap();
    let o = wasmc(&["cache", "clean", "--cache-dir", &cache]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("removed 2 entries"),
        "{}",
        stdout(&o)
    );
    assert!(entries(&cache).is_empty());
    assert!(Path::new(&cache).join("README").exists());
}

#[test]
fn a_damaged_entry_is_recompiled_not_run() {
    let dir = TempDir::new("corrupt");
    let cache = dir.path("cache");
    let o = run_fib(&cache, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let entry = entries(&cache).pop().unwrap();
    // Flip every byte of the second half: code, data and checksum no longer agree.
    let mut bytes = std::fs::read(&entry).unwrap();
    let half = bytes.len() / 2;
    for b in &mut bytes[half..] {
        *b ^= 0xff;
    }
    std::fs::write(&entry, &bytes).unwrap();

    let o = run_fib(&cache, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "6765\n");
    let err = stderr(&o);
    assert!(err.contains("removing unusable entry"), "{err}");
    assert!(err.contains("compile: codegen"), "recompiled:\n{err}");
    // The entry was replaced by a good one, which the next run uses.
    assert_ne!(std::fs::read(&entry).unwrap(), bytes);
    let o = run_fib(&cache, &[]);
    assert!(stderr(&o).contains("cache hit:"), "{}", stderr(&o));

    // Something that is not an artifact at all, under the entry's name.
    std::fs::write(&entry, b"garbage").unwrap();
    let o = run_fib(&cache, &[]);
    assert_eq!(stdout(&o), "6765\n", "{}", stderr(&o));
    assert!(
        stderr(&o).contains("removing unusable entry"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn concurrent_runs_both_succeed() {
    let dir = TempDir::new("concurrent");
    let cache = dir.path("cache");
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let cache = cache.clone();
            std::thread::spawn(move || run_fib(&cache, &[]))
        })
        .collect();
    for r in runs {
        let o = r.join().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), "6765\n");
    }
    assert_eq!(entries(&cache).len(), 1);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn environment_selects_the_directory_and_no_cache_disables_it() {
    let dir = TempDir::new("env");
    let from_env = dir.path("from-env");
    let xdg = dir.path("xdg");
    let fib = repo_path("examples/fib.wat");
    let args = ["run", "--invoke", "fib", &fib, "10"];
    let o = wasmc_env(&args, &[("WASMC_CACHE_DIR", &from_env)]);
    assert_eq!(stdout(&o), "55\n", "{}", stderr(&o));
    assert_eq!(entries(&from_env).len(), 1);

    // Without WASMC_CACHE_DIR, XDG_CACHE_HOME/wasmc.
    let o = wasmc_env(
        &["cache", "dir"],
        &[("WASMC_CACHE_DIR", ""), ("XDG_CACHE_HOME", &xdg)],
    );
    assert_eq!(
        stdout(&o).trim(),
        Path::new(&xdg).join("wasmc").display().to_string()
    );

    let none = dir.path("none");
    let o = wasmc_env(
        &["run", "--no-cache", "-v", "--invoke", "fib", &fib, "10"],
        &[("WASMC_CACHE_DIR", &none)],
    );
    assert_eq!(stdout(&o), "55\n", "{}", stderr(&o));
    assert!(!stderr(&o).contains("cache"), "{}", stderr(&o));
    assert!(!Path::new(&none).exists());
}

/// `run` compiles for this machine (`--target-cpu native`), `build` for the portable
/// baseline; `--target-cpu` overrides either. What each chose is in the artifact's header,
/// which `inspect` prints.
#[test]
fn run_compiles_for_this_cpu_and_build_for_the_baseline() {
    let dir = TempDir::new("cpu");
    let cache = dir.path("cache");
    let features = |artifact: &str| -> String {
        let o = wasmc(&["inspect", artifact]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .find(|l| l.starts_with("cpu features:"))
            .unwrap_or_default()
            .to_string()
    };
    let o = run_fib(&cache, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cached = entries(&cache);
    assert_eq!(cached.len(), 1);
    let run_features = features(&cached[0].to_string_lossy());
    #[cfg(target_arch = "x86_64")]
    {
        let v3 = ["avx", "avx2", "bmi1", "bmi2", "lzcnt", "fma"]
            .iter()
            .all(|f| run_features.contains(f));
        let host_v3 = std::arch::is_x86_feature_detected!("avx")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
            && std::arch::is_x86_feature_detected!("fma");
        assert_eq!(v3, host_v3, "run on a v3 host uses v3: {run_features}");
    }
    let built = dir.path("fib.o");
    let o = wasmc(&["build", &repo_path("examples/fib.wat"), "-o", &built]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!features(&built).contains("avx2"), "{}", features(&built));
    // An explicit --target-cpu wins over run's default (and is another cache entry).
    let o = run_fib(&cache, &["--target-cpu", "baseline"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cached = entries(&cache);
    assert_eq!(cached.len(), 2);
    assert!(
        cached
            .iter()
            .any(|p| !features(&p.to_string_lossy()).contains("avx2"))
    );
}
