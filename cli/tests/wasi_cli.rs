//! `wasmc run` as a WASI program runner, end to end through the binary: stdio inherited,
//! guest arguments and `--env`, `--dir`/`--dir-readonly`, the guest's exit status, 134 on a
//! trap, 124 on `--timeout` (in Wasm code and while blocked in a host call), artifacts from
//! `wasmc build`, `--import-map`, legacy `wasi_unstable` modules, and clear link errors.

use std::time::{Duration, Instant};

mod common;

use common::{TempDir, repo_path, stderr, stdout, wasmc, wasmc_command, wasmc_with_stdin};

fn fixture(name: &str) -> String {
    repo_path(&format!("tests/wasi/{name}"))
}

#[test]
fn guest_gets_its_arguments_and_environment() {
    let m = fixture("args_env.wasm");
    let o = wasmc(&["run", "--env", "GREETING=hi there", &m, "a", "--b", "-c"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains(&format!("argv[0]={m}\n")), "{out}");
    assert!(out.contains("argc=4\nargv[0]="), "{out}");
    assert!(out.contains("argv[2]=--b\nargv[3]=-c\n"), "{out}");
    assert!(out.contains("environ count=1\n"), "{out}");
    assert!(out.contains("getenv(GREETING)=hi there\n"), "{out}");
    // The host environment is not passed unless asked for.
    let o = wasmc_command()
        .args(["run", "--inherit-env", &m])
        .env("WASMC_CLI_TEST_VAR", "inherited")
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("env WASMC_CLI_TEST_VAR=inherited\n"),
        "{}",
        stdout(&o)
    );
    let o = wasmc(&["run", "--env", "NOEQUALS", &m]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("KEY=VALUE"), "{}", stderr(&o));
}

#[test]
fn stdin_stdout_and_stderr_are_inherited() {
    let o = wasmc_with_stdin(&["run", &fixture("stdin_echo.wasm")], b"one\ntwo\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "read 8 bytes, 2 lines\nONE\nTWO\n");
    assert_eq!(stderr(&o), "stderr: done\n");
}

#[test]
fn exit_status_is_the_guests() {
    let m = fixture("exit_code.wasm");
    for code in ["0", "3", "42", "255"] {
        let o = wasmc(&["run", &m, code]);
        assert_eq!(
            o.status.code(),
            Some(code.parse().unwrap()),
            "{}",
            stderr(&o)
        );
        assert_eq!(stdout(&o), format!("exiting with {code}\n"));
    }
    let o = wasmc(&["run", &m]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn a_trap_exits_134_naming_the_function() {
    let o = wasmc(&["run", &fixture("trap.wasm")]);
    assert_eq!(o.status.code(), Some(134));
    assert_eq!(stdout(&o), "about to trap\n");
    let err = stderr(&o);
    assert!(err.contains("unreachable"), "{err}");
    assert!(err.contains("crash_here"), "{err}");
}

#[test]
fn directories_are_given_with_dir_and_dir_readonly() {
    let t = TempDir::new("dirs");
    std::fs::create_dir_all(t.path("rw")).unwrap();
    let o = wasmc(&[
        "run",
        "--dir",
        &format!("{}::/sandbox", t.path("rw")),
        &fixture("files.wasm"),
    ]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).ends_with("done\n"), "{}", stdout(&o));

    // Read-only: the same program fails at its first write.
    let o = wasmc(&[
        "run",
        "--dir-readonly",
        &format!("{}::/sandbox", t.path("rw")),
        &fixture("files.wasm"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("Operation not permitted"),
        "{}",
        stdout(&o)
    );
    assert_eq!(std::fs::read_dir(t.path("rw")).unwrap().count(), 0);

    // Without --dir there is nothing to open.
    let o = wasmc(&["run", &fixture("files.wasm")]);
    assert_eq!(o.status.code(), Some(1));

    let o = wasmc(&["run", "--dir", &t.path("missing"), &fixture("files.wasm")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a directory"), "{}", stderr(&o));
}

#[test]
fn timeout_stops_a_spinning_guest_with_124() {
    let t = TempDir::new("spin");
    let wat = t.path("spin.wat");
    std::fs::write(&wat, r#"(module (func (export "_start") (loop br 0)))"#).unwrap();
    let start = Instant::now();
    let o = wasmc(&["run", "--timeout", "300ms", &wat]);
    assert_eq!(o.status.code(), Some(124), "{}", stderr(&o));
    assert!(stderr(&o).contains("timed out"), "{}", stderr(&o));
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn timeout_stops_a_guest_sleeping_in_the_host_with_124() {
    // poll_oneoff on a 1-hour relative clock: blocked in the host, where no epoch check
    // runs; the watchdog ends the process.
    let t = TempDir::new("sleep");
    let wat = t.path("sleep.wat");
    std::fs::write(
        &wat,
        r#"(module
          (import "wasi_snapshot_preview1" "poll_oneoff"
            (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (i32.store8 (i32.const 8) (i32.const 0))
            (i32.store (i32.const 16) (i32.const 1))
            (i64.store (i32.const 24) (i64.const 3600000000000))
            (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))"#,
    )
    .unwrap();
    let start = Instant::now();
    let o = wasmc(&["run", "--timeout", "300ms", &wat]);
    assert_eq!(o.status.code(), Some(124), "{}", stderr(&o));
    assert!(stderr(&o).contains("timed out"), "{}", stderr(&o));
    assert!(start.elapsed() < Duration::from_secs(20));
    let o = wasmc(&["run", "--timeout", "soon", &wat]);
    assert_eq!(o.status.code(), Some(2), "clap usage error: {}", stderr(&o));
}

#[test]
fn artifacts_from_build_run_without_compiling() {
    let t = TempDir::new("artifact");
    let art = t.path("exit.wasmc.o");
    let o = wasmc(&["build", &fixture("exit_code.wasm"), "-o", &art]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = wasmc(&["run", &art, "9"]);
    assert_eq!(o.status.code(), Some(9), "{}", stderr(&o));
    assert_eq!(stdout(&o), "exiting with 9\n");
}

const LEGACY_HELLO: &str = r#"(module
  (import "wasi_unstable" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from preview0\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 20))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

#[test]
fn legacy_wasi_unstable_modules_run() {
    let t = TempDir::new("legacy");
    let wat = t.path("legacy.wat");
    std::fs::write(&wat, LEGACY_HELLO).unwrap();
    let o = wasmc(&["run", &wat]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hello from preview0\n");
}

#[test]
fn import_map_renames_imports() {
    let t = TempDir::new("importmap");
    let wat = t.path("renamed.wat");
    std::fs::write(
        &wat,
        LEGACY_HELLO.replace("\"wasi_unstable\" \"fd_write\"", "\"io\" \"put\""),
    )
    .unwrap();
    let o = wasmc(&["run", &wat]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("io::put"),
        "the unknown import is named: {}",
        stderr(&o)
    );
    let map = t.path("map.txt");
    std::fs::write(&map, "import io.put = wasi_snapshot_preview1.fd_write\n").unwrap();
    let o = wasmc(&["run", "--import-map", &map, &wat]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hello from preview0\n");
}
