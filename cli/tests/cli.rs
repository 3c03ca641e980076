//! The `wasmc` binary end to end: `build` then `run --invoke`, running WAT directly, exit
//! status 134 on a trap, status 1 with an `error:` message on bad input, and `wast`.

use std::path::Path;

mod common;

use common::{TempDir, repo_path, stderr, stdout, wasmc};

fn example(name: &str) -> String {
    repo_path(&format!("examples/{name}"))
}

#[test]
fn build_then_run_invoke() {
    let dir = TempDir::new("build-run");
    let artifact = dir.path("fib.wasmc.o");
    let built = wasmc(&["build", &example("fib.wat"), "-o", &artifact]);
    assert!(built.status.success(), "{}", stderr(&built));
    let ran = wasmc(&["run", "--invoke", "fib", &artifact, "20"]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert_eq!(stdout(&ran), "6765\n");
}

#[test]
fn build_default_output_name() {
    let dir = TempDir::new("default-out");
    let input = dir.path("fib.wat");
    std::fs::copy(example("fib.wat"), &input).expect("copying fib.wat");
    let built = wasmc(&["build", &input]);
    assert!(built.status.success(), "{}", stderr(&built));
    assert!(Path::new(&dir.path("fib.wasmc.o")).exists());
}

#[test]
fn run_wat_and_wasm_directly_with_typed_arguments() {
    let add = example("add.wat");
    let o = wasmc(&["run", "--invoke", "add", &add, "-1", "0x10"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "15\n");
    let o = wasmc(&["run", "--invoke", "div", &add, "7", "2"]);
    assert_eq!(stdout(&o), "3.5\n", "{}", stderr(&o));
    let o = wasmc(&["run", "--invoke", "divmod", &add, "17", "5"]);
    assert_eq!(stdout(&o), "3\n2\n", "{}", stderr(&o));

    let dir = TempDir::new("wasm");
    let wasm = dir.path("add.wasm");
    std::fs::write(&wasm, wat::parse_file(&add).expect("add.wat parses")).expect("writing");
    let o = wasmc(&["run", "--invoke", "add", &wasm, "2", "3"]);
    assert_eq!(stdout(&o), "5\n", "{}", stderr(&o));
}

#[test]
fn trap_exits_with_134_and_says_why() {
    let o = wasmc(&["run", "--invoke", "divmod", &example("add.wat"), "1", "0"]);
    assert_eq!(o.status.code(), Some(134), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("integer divide by zero"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn bad_input_exits_with_1_and_an_error() {
    let dir = TempDir::new("bad");
    let bad = dir.path("bad.wat");
    std::fs::write(&bad, "(module (func (export \"f\") i32.add))").expect("writing");
    // Invalid module (type error): the compiler's message, with the file name.
    let o = wasmc(&["run", "--invoke", "f", &bad]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("bad.wat"), "{err}");

    // Missing file.
    let o = wasmc(&["build", &dir.path("missing.wat"), "-o", &dir.path("x.o")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.wat"), "{}", stderr(&o));

    // Wrong argument for the parameter type, and a wrong argument count.
    let o = wasmc(&["run", "--invoke", "add", &example("add.wat"), "one", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("`one`"), "{}", stderr(&o));
    let o = wasmc(&["run", "--invoke", "add", &example("add.wat"), "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("takes 2 argument(s)"), "{}", stderr(&o));

    // No such export.
    let o = wasmc(&["run", "--invoke", "nope", &example("add.wat")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("`nope`"), "{}", stderr(&o));

    // A garbage "artifact".
    let junk = dir.path("junk.o");
    std::fs::write(&junk, b"\x7fELF not really").expect("writing");
    let o = wasmc(&["run", &junk]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("junk.o"), "{}", stderr(&o));

    // A bad target.
    let o = wasmc(&["build", &example("fib.wat"), "--target", "riscv64-linux"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("riscv64-linux"), "{}", stderr(&o));
}

#[test]
fn unknown_import_is_named_before_anything_runs() {
    // WASI imports resolve now; an import nobody provides must still fail before the guest
    // runs, naming the (module, name) pair.
    let dir = TempDir::new("imports");
    let wat = dir.path("hello.wat");
    std::fs::write(
        &wat,
        r#"(module
             (import "env" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
             (func (export "_start") unreachable))"#,
    )
    .expect("writing");
    let o = wasmc(&["run", &wat]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("env::fd_write"), "{err}");
}

#[test]
fn trap_prints_a_wasm_backtrace() {
    let dir = TempDir::new("backtrace");
    let wat = dir.path("bt.wat");
    std::fs::write(
        &wat,
        r#"(module
             (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
             (func $middle (param i32) (result i32) (call $inner (local.get 0)))
             (func $start (export "_start") (drop (call $middle (i32.const 0)))))"#,
    )
    .expect("writing");
    let o = wasmc(&["run", &wat]);
    assert_eq!(o.status.code(), Some(134));
    let err = stderr(&o);
    assert!(
        err.contains("integer divide by zero in function inner"),
        "{err}"
    );
    let frames: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("wasm backtrace"))
        .skip(1)
        .collect();
    assert_eq!(
        frames,
        [
            "    0: inner (function 0)",
            "    1: middle (function 1)",
            "    2: start (function 2)"
        ],
        "{err}"
    );
}

#[test]
fn run_calls_start() {
    let dir = TempDir::new("start");
    let wat = dir.path("start.wat");
    std::fs::write(&wat, r#"(module (func (export "_start") unreachable))"#).expect("writing");
    let o = wasmc(&["run", &wat]);
    assert_eq!(o.status.code(), Some(134), "{}", stderr(&o));
    std::fs::write(&wat, r#"(module (func (export "_start")))"#).expect("writing");
    let o = wasmc(&["run", &wat]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn cross_compiled_artifact_is_refused_at_run() {
    let dir = TempDir::new("cross");
    let host = wasmc_abi::Target::host().expect("tests run on a supported host");
    let other = wasmc_abi::Target::ALL
        .into_iter()
        .find(|t| *t != host)
        .expect("another target");
    let out = dir.path("fib.o");
    let o = wasmc(&[
        "build",
        &example("fib.wat"),
        "--target",
        other.triple(),
        "-o",
        &out,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = wasmc(&["run", "--invoke", "fib", &out, "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
}

#[test]
fn wast_reports_counts_and_fails_on_failure() {
    let dir = TempDir::new("wast");
    let good = dir.path("good.wast");
    std::fs::write(
        &good,
        r#"(module (func (export "f") (result i32) i32.const 1))
           (assert_return (invoke "f") (i32.const 1))
           (assert_trap (module (func $s unreachable) (start $s)) "unreachable")"#,
    )
    .expect("writing");
    let o = wasmc(&["wast", &good]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("good.wast: 2 passed, 0 failed"),
        "{}",
        stdout(&o)
    );

    let bad = dir.path("bad.wast");
    std::fs::write(
        &bad,
        r#"(module (func (export "f") (result i32) i32.const 1))
           (assert_return (invoke "f") (i32.const 2))"#,
    )
    .expect("writing");
    let o = wasmc(&["wast", &bad]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("bad.wast: 0 passed, 1 failed"), "{out}");
    assert!(out.contains("bad.wast:2:"), "{out}");
    assert!(out.contains("expected i32 2, got i32 1"), "{out}");
}
