//! `wasmc build -v` / `run -v` phase timings, `run --profile=perfmap`, `run --fuel`, and the
//! rustc-style error messages (what, where, hint) of build, run and check.

mod common;

use std::process::Stdio;

use common::{TempDir, repo_path, stderr, stdout, wasmc, wasmc_command};

fn example(name: &str) -> String {
    repo_path(&format!("examples/{name}"))
}

#[test]
fn verbose_prints_phase_timings_on_stderr() {
    let dir = TempDir::new("verbose");
    let out = dir.path("fib.o");
    let o = wasmc(&["build", "-v", &example("fib.wat"), "-o", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    for phase in [
        "read",
        "parse",
        "compile: validate",
        "compile: codegen",
        "compile: emit",
        "write",
        "total",
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("timing: {phase} ")) && l.ends_with(" ms")),
            "no {phase:?} line in\n{err}"
        );
    }
    let o = wasmc(&["run", "-v", "--no-cache", "--invoke", "fib", &out, "10"]);
    assert_eq!(stdout(&o), "55\n");
    for phase in ["read", "load", "instantiate", "run", "total"] {
        assert!(
            stderr(&o).contains(&format!("timing: {phase} ")),
            "{}",
            stderr(&o)
        );
    }
    // Quiet without -v.
    let o = wasmc(&["build", &example("fib.wat"), "-o", &out]);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[cfg(target_os = "linux")]
#[test]
fn profile_perfmap_names_wasm_functions() {
    let dir = TempDir::new("perfmap");
    // PerfMap writes to the temporary directory; point it at ours.
    let child = wasmc_command()
        .env("TMPDIR", dir.path(""))
        .args(["run", "--profile=perfmap", "--no-cache", "--invoke", "fib"])
        .args([&example("fib.wat"), "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "55\n", "{}", stderr(&o));
    let map = std::fs::read_to_string(dir.path(&format!("perf-{pid}.map"))).unwrap();
    let line = map
        .lines()
        .find(|l| l.ends_with("::fib"))
        .unwrap_or_else(|| panic!("no fib in\n{map}"));
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields.len(), 3, "{line}");
    assert!(
        u64::from_str_radix(fields[0], 16).is_ok_and(|a| a > 0),
        "{line}"
    );
    assert!(
        u64::from_str_radix(fields[1], 16).is_ok_and(|n| n > 0),
        "{line}"
    );
}

#[test]
fn fuel_stops_a_long_computation() {
    let fib = example("fib.wat");
    let o = wasmc(&["run", "--fuel", "1000000", "--invoke", "fib", &fib, "15"]);
    assert_eq!(stdout(&o), "610\n", "{}", stderr(&o));
    let o = wasmc(&["run", "--fuel", "500", "--invoke", "fib", &fib, "25"]);
    assert_eq!(o.status.code(), Some(134), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: wasm trap: all fuel consumed in function fib\n"),
        "{err}"
    );
    assert!(
        err.contains("--> ") && err.contains("function 0 `fib`"),
        "{err}"
    );
    assert!(err.contains("500 units of fuel"), "{err}");

    // An artifact built without metering cannot be limited; one built with it can.
    let dir = TempDir::new("fuel");
    let plain = dir.path("plain.o");
    assert!(wasmc(&["build", &fib, "-o", &plain]).status.success());
    let o = wasmc(&["run", "--fuel", "500", "--invoke", "fib", &plain, "25"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("wasmc build --consume-fuel"),
        "{}",
        stderr(&o)
    );
    let metered = dir.path("metered.o");
    let built = wasmc(&["build", "--consume-fuel", &fib, "-o", &metered]);
    assert!(built.status.success(), "{}", stderr(&built));
    let o = wasmc(&["run", "--fuel", "500", "--invoke", "fib", &metered, "25"]);
    assert_eq!(o.status.code(), Some(134), "{}", stderr(&o));
}

#[test]
fn compile_errors_say_what_where_and_hint() {
    let dir = TempDir::new("errors");
    let bad = dir.path("plugin.wat");
    std::fs::write(
        &bad,
        r#"(module (func $ok) (func $process (export "process") (result i32) i64.const 1))"#,
    )
    .unwrap();
    for args in [
        vec!["build", &bad, "-o", &dir.path("x.o")],
        vec!["run", "--invoke", "process", &bad],
    ] {
        let o = wasmc(&args);
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        let mut lines = err.lines();
        assert_eq!(
            lines.next(),
            Some("error: invalid module: type mismatch: expected i32, found i64"),
            "{err}"
        );
        let at = lines.next().unwrap_or_default();
        assert!(
            at.starts_with(&format!(
                "  --> {bad}: function 1 `process`, byte offset 0x"
            )),
            "{err}"
        );
        assert_eq!(
            lines.next(),
            Some(&*format!("  = note: while compiling {bad}"))
        );
    }

    // A switched-off proposal names the flag that switches it on.
    let simd = dir.path("simd.wat");
    std::fs::write(&simd, "(module (func (result v128) v128.const i64x2 0 0))").unwrap();
    let o = wasmc(&[
        "build",
        "--wasm-feature",
        "simd=off",
        &simd,
        "-o",
        &dir.path("s.o"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("= hint: the module uses the `simd` proposal: switch it on with `--wasm-feature simd=on`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn load_and_link_errors_get_hints() {
    let dir = TempDir::new("hints");
    let imports = dir.path("imports.wat");
    std::fs::write(
        &imports,
        r#"(module (import "env" "log" (func (param i32))) (func (export "_start")))"#,
    )
    .unwrap();
    let o = wasmc(&["run", &imports]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: unknown import: `env::log`"),
        "{err}"
    );
    assert!(
        err.contains("= hint:") && err.contains("--import-map") && err.contains("wasmc check"),
        "{err}"
    );

    // An artifact for another target.
    let mac = dir.path("mac.o");
    let target = if cfg!(target_arch = "aarch64") {
        "x86_64-apple-darwin"
    } else {
        "aarch64-apple-darwin"
    };
    let built = wasmc(&["build", &example("fib.wat"), "--target", target, "-o", &mac]);
    assert!(built.status.success(), "{}", stderr(&built));
    let o = wasmc(&["run", "--invoke", "fib", &mac, "1"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("compiled for"), "{err}");
    assert!(err.contains("= note: while loading artifact"), "{err}");
    assert!(
        err.contains("= hint:") && err.contains("rebuild it"),
        "{err}"
    );
}
