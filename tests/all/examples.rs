//! Runs the embedding examples (`examples/*/main.rs`, `[[example]]`s of this package) and
//! checks their output. `cargo test` builds a package's examples next to its test binaries
//! (`target/<profile>/examples/`); when only this test target was built, the test builds
//! the examples itself with the same cargo, profile and target directory.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const EXAMPLES: [&str; 4] = ["age-calculator", "replace-import", "concurrent", "deadline"];

/// `target/<profile>/examples/`, with every example built.
fn examples_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        // target/<profile>/deps/all-<hash> -> target/<profile>/examples
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("the test binary lives in target/<profile>/deps");
        let dir = profile_dir.join("examples");
        if EXAMPLES.iter().any(|e| !dir.join(e).exists()) {
            let target_dir = profile_dir.parent().expect("target/<profile> has a parent");
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args(["build", "-p", "wasmc-tests", "--examples"])
                .env("CARGO_TARGET_DIR", target_dir)
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("running cargo build --examples");
            assert!(status.success(), "building the examples failed");
        }
        dir
    })
}

/// Runs example `name` with `args` and `env`, and returns its stdout (it must succeed).
fn run(name: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(examples_dir().join(name));
    cmd.args(args).env_remove("CURRENT_YEAR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {name}: {e}"));
    assert!(
        out.status.success(),
        "{name} failed with {}:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn age_calculator_prints_the_age_twice() {
    let out = run("age-calculator", &["2000"], &[("CURRENT_YEAR", "2022")]);
    assert_eq!(out, "println >> 22\nlog_i32 >> 22\n");
    // Without CURRENT_YEAR: the real year, at least the year this test was written.
    let out = run("age-calculator", &["2000"], &[]);
    let age: i32 = out
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("println >> "))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output {out:?}"));
    assert!(age >= 26, "{out}");
    assert_eq!(out, format!("println >> {age}\nlog_i32 >> {age}\n"));
}

#[test]
fn replace_import_runs_after_renaming() {
    let out = run("replace-import", &[], &[]);
    assert_eq!(
        out,
        "without renaming: unknown import: `wasi_unstable::sched_yield` has not been defined \
         (expected function (func (result i32)))\n\
         wasi_snapshot_preview1::sched_yield called\n\
         console::print_i32 >> 42\n\
         wasi_snapshot_preview1::sched_yield called\n\
         console::print_i32 >> 23\n"
    );
}

#[test]
fn concurrent_runs_one_artifact_on_four_threads() {
    let out = run("concurrent", &[], &[]);
    assert_eq!(
        out,
        "thread 0: fib(20) = 6765\n\
         thread 1: fib(21) = 10946\n\
         thread 2: fib(22) = 17711\n\
         thread 3: fib(23) = 28657\n\
         4 threads shared one artifact\n"
    );
}

#[test]
fn deadline_stops_the_infinite_loop() {
    let out = run("deadline", &[], &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let ms = lines[0]
        .strip_prefix("deadline of 100 ms: stopped after ")
        .and_then(|r| r.split_once(" ms (wasm trap: interrupted in function spin)"))
        .and_then(|(ms, rest)| rest.is_empty().then_some(ms))
        .and_then(|ms| ms.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("unexpected line {:?}", lines[0]));
    assert!((100.0..1000.0).contains(&ms), "{ms} ms");
    assert!(
        lines[1].starts_with("interrupt from another thread: stopped ")
            && lines[1].ends_with(" ms after it fired (wasm trap: interrupted in function spin)"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "still usable: count(1000) = 1000");
}
