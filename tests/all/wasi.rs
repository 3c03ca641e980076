//! WASI preview1: the C programs in `tests/wasi/*.c` (built to the committed `.wasm` files by
//! `scripts/build-wasi-fixtures.sh`), each run with in-memory stdio, scratch directories and
//! replaced clocks/randomness, compared with `tests/wasi/<case>.stdout` (and `.stderr` where
//! the program writes one). `WASMC_TEST_BLESS=1` rewrites the expected files. Also: the
//! sandbox (escape attempts refused, nothing outside touched), the `wasi_unstable` ABI,
//! `proc_exit`, and the benchmark corpus in `../shared/bench` (when present).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmc_compiler::{CompileOptions, Compiler};
use wasmc_loader::wasi::{
    self, DeterministicRandom, OutputBuffer, WasiClock, WasiClocks, WasiCtx, WasiCtxBuilder,
};
use wasmc_loader::{Artifact, Linker, Store};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/wasi").join(name)
}

fn load_wasm(path: &Path) -> Artifact {
    let wasm = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    wasmc_cli::input::compile_and_load(
        &Compiler::new(&CompileOptions::new()).expect("host compiler"),
        &wasm,
    )
    .unwrap_or_else(|e| panic!("{}: {:#}", path.display(), anyhow::Error::new(e)))
}

/// A scratch directory unique to this test, removed afterwards.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wasmc-wasi-{}-{tag}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a temp dir");
        TempDir(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Clocks that tick 1 µs per reading and whose `sleep` only advances them: deterministic,
/// and never really sleeps.
#[derive(Default)]
struct FakeClocks {
    ticks: Mutex<u64>,
}

impl WasiClocks for FakeClocks {
    fn now(&self, clock: WasiClock) -> u64 {
        let mut t = self.ticks.lock().unwrap();
        *t += 1_000;
        match clock {
            WasiClock::Realtime => 1_700_000_000_000_000_000 + *t,
            _ => *t,
        }
    }

    fn resolution(&self, _clock: WasiClock) -> u64 {
        1_000
    }

    fn sleep(&self, duration: Duration) {
        *self.ticks.lock().unwrap() += u64::try_from(duration.as_nanos()).unwrap();
    }
}

/// What a run produced.
struct Outcome {
    stdout: String,
    stderr: String,
    /// `Some(status)` for `proc_exit` (0 when `_start` returned); `None` on a trap.
    status: Option<i32>,
    trap: Option<String>,
}

/// Runs `artifact`'s `_start` with the context `b` builds (stdout/stderr captured here).
fn run(artifact: &Artifact, b: &mut WasiCtxBuilder) -> Outcome {
    let (out, err) = (OutputBuffer::new(), OutputBuffer::new());
    let ctx = b.stdout(out.clone()).stderr(err.clone()).build().unwrap();
    let mut store = Store::new(ctx);
    let mut linker = Linker::<WasiCtx>::new();
    wasi::add_to_linker(&mut linker, |c| c);
    let instance = linker.instantiate(&mut store, artifact).unwrap();
    let start = instance.get_typed_func::<(), ()>(&store, "_start").unwrap();
    let (status, trap) = match start.call(&mut store, ()) {
        Ok(()) => (Some(0), None),
        Err(e) if e.exit_code().is_some() => (e.exit_code(), None),
        Err(e) if e.is_trap() => (None, Some(e.to_string())),
        Err(e) => panic!("unexpected error: {e}"),
    };
    Outcome {
        stdout: String::from_utf8(out.contents()).unwrap(),
        stderr: String::from_utf8(err.contents()).unwrap(),
        status,
        trap,
    }
}

/// Compares `actual` with `tests/wasi/<file>`, or writes it there under `WASMC_TEST_BLESS=1`.
fn check_expected(file: &str, actual: &str) {
    let path = fixture(file);
    if std::env::var_os("WASMC_TEST_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {} ({e}); run with WASMC_TEST_BLESS=1 to create it",
            path.display()
        )
    });
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

fn builder(argv0: &str) -> WasiCtxBuilder {
    let mut b = WasiCtxBuilder::new();
    b.arg(argv0)
        .clocks(FakeClocks::default())
        .random(DeterministicRandom::new(42));
    b
}

#[test]
fn args_and_environment_reach_main() {
    let a = load_wasm(&fixture("args_env.wasm"));
    let o = run(
        &a,
        builder("args_env.wasm")
            .args(["one", "two words", "--three", ""])
            .env("GREETING", "hello, world")
            .env("EMPTY", ""),
    );
    assert_eq!(o.status, Some(0));
    check_expected("args_env.stdout", &o.stdout);
}

#[test]
fn stdin_is_read_to_the_end_and_stderr_is_separate() {
    let a = load_wasm(&fixture("stdin_echo.wasm"));
    let o = run(
        &a,
        builder("stdin_echo.wasm").stdin_bytes("first line\nsecond line\nno newline"),
    );
    assert_eq!(o.status, Some(0));
    check_expected("stdin_echo.stdout", &o.stdout);
    assert_eq!(o.stderr, "stderr: done\n");
    // Without stdin configured, the program sees an empty stream.
    let o = run(&a, &mut builder("stdin_echo.wasm"));
    assert_eq!(o.stdout, "read 0 bytes, 0 lines\n");
}

#[test]
fn files_and_directories_work_inside_a_preopen() {
    let a = load_wasm(&fixture("files.wasm"));
    let dir = TempDir::new("files");
    let o = run(
        &a,
        builder("files.wasm").preopened_dir(&dir.0, "/sandbox", false),
    );
    assert_eq!(o.status, Some(0), "stdout:\n{}", o.stdout);
    check_expected("files.stdout", &o.stdout);
    // The program cleans up after itself.
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 0);
}

#[test]
fn clocks_and_sleep_use_the_context_clocks() {
    let a = load_wasm(&fixture("clocks.wasm"));
    let o = run(&a, &mut builder("clocks.wasm"));
    assert_eq!(o.status, Some(0));
    check_expected("clocks.stdout", &o.stdout);
    // The host clocks give the same answers (the program prints only properties).
    let mut b = WasiCtxBuilder::new();
    b.arg("clocks.wasm");
    let host = run(&a, &mut b);
    assert_eq!(host.stdout, o.stdout);
}

#[test]
fn random_bytes_come_from_the_context_source() {
    let a = load_wasm(&fixture("random.wasm"));
    let o = run(&a, &mut builder("random.wasm"));
    check_expected("random.stdout", &o.stdout);
    let again = run(&a, &mut builder("random.wasm"));
    assert_eq!(again.stdout, o.stdout, "a seeded source repeats itself");
    let mut b = WasiCtxBuilder::new();
    let host = run(&a, &mut b);
    assert!(
        host.stdout.ends_with("draws differ: yes\n"),
        "{}",
        host.stdout
    );
    assert_ne!(host.stdout, o.stdout);
}

#[test]
fn proc_exit_status_reaches_the_host() {
    let a = load_wasm(&fixture("exit_code.wasm"));
    for code in [0, 1, 7, 255] {
        let o = run(&a, builder("exit_code.wasm").arg(code.to_string()));
        assert_eq!(o.status, Some(code));
        assert_eq!(o.stdout, format!("exiting with {code}\n"));
    }
    let o = run(&a, &mut builder("exit_code.wasm"));
    assert_eq!(o.status, Some(0));
}

#[test]
fn a_trap_names_the_function() {
    let a = load_wasm(&fixture("trap.wasm"));
    let o = run(&a, &mut builder("trap.wasm"));
    assert_eq!(o.status, None);
    assert_eq!(o.stdout, "about to trap\n");
    let trap = o.trap.unwrap();
    assert!(trap.contains("unreachable"), "{trap}");
    assert!(trap.contains("crash_here"), "{trap}");
}

/// Every file below `dir`, with its contents (symlinks as `-> target`), sorted.
fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&p).unwrap().display())
            } else if meta.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else {
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned()
            };
            out.push((p, what));
        }
    }
    out.sort();
    out
}

#[test]
fn sandbox_escapes_and_read_only_writes_are_refused() {
    let a = load_wasm(&fixture("sandbox.wasm"));
    let t = TempDir::new("sandbox");
    for d in ["sandbox/sub", "outside", "ro/sub"] {
        std::fs::create_dir_all(t.path(d)).unwrap();
    }
    std::fs::write(t.path("outside/secret.txt"), "secret\n").unwrap();
    std::fs::write(t.path("ro/ro.txt"), "read only\n").unwrap();
    std::fs::write(t.path("sandbox/inside.txt"), "inside\n").unwrap();
    let outside_abs = t.path("outside/secret.txt");
    std::os::unix::fs::symlink("../outside/secret.txt", t.path("sandbox/link_rel")).unwrap();
    std::os::unix::fs::symlink(&outside_abs, t.path("sandbox/link_abs")).unwrap();
    std::os::unix::fs::symlink("../outside", t.path("sandbox/link_dir")).unwrap();
    let outside_before = snapshot(&t.path("outside"));
    let ro_before = snapshot(&t.path("ro"));
    let root_before: Vec<_> = std::fs::read_dir(&t.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    let o = run(
        &a,
        builder("sandbox.wasm")
            .preopened_dir(t.path("sandbox"), "/sandbox", false)
            .preopened_dir(t.path("ro"), "/ro", true),
    );
    assert_eq!(o.status, Some(0), "{}", o.stdout);
    check_expected("sandbox.stdout", &o.stdout);
    // Only the one read that is allowed succeeds, and the links the guest may create inside.
    for line in o.stdout.lines().filter(|l| l.ends_with("SUCCEEDED")) {
        assert!(
            line.starts_with("ro: read ro.txt")
                || line.starts_with("lstat link_abs")
                || line.starts_with("create symlink to ../outside"),
            "an escape or write succeeded: {line}"
        );
    }
    assert_eq!(
        snapshot(&t.path("outside")),
        outside_before,
        "outside was touched"
    );
    assert_eq!(
        snapshot(&t.path("ro")),
        ro_before,
        "the read-only preopen changed"
    );
    let root_after: Vec<_> = std::fs::read_dir(&t.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        root_after.len(),
        root_before.len(),
        "something was created beside the preopens"
    );
}

/// A hand-written preview0 (`wasi_unstable`) module: `fd_seek` with preview0 `whence` values
/// and `fd_filestat_get` with the 56-byte preview0 layout, on a file opened in the preopen.
#[test]
fn wasi_unstable_uses_the_preview0_abi() {
    let wat = r#"(module
      (import "wasi_unstable" "path_open"
        (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "wasi_unstable" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
      (import "wasi_unstable" "fd_filestat_get" (func $stat (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 0) "f.txt")
      ;; open f.txt in fd 3 -> fd at 16
      (func (export "open") (result i32)
        (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 5) (i32.const 0)
          (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 16)))
      ;; seek(fd, off, whence) -> new position, or -errno
      (func (export "seek") (param i64 i32) (result i64)
        (local $e i32)
        (local.set $e (call $seek (i32.load (i32.const 16)) (local.get 0) (local.get 1)
          (i32.const 24)))
        (if (result i64) (local.get $e)
          (then (i64.sub (i64.const 0) (i64.extend_i32_u (local.get $e))))
          (else (i64.load (i32.const 24)))))
      ;; filestat at 64: returns size (preview0: u64 at 24) and nlink (u32 at 20) packed
      (func (export "stat") (result i64)
        (drop (call $stat (i32.load (i32.const 16)) (i32.const 64)))
        (i64.add (i64.load (i32.const 88))
          (i64.shl (i64.load32_u (i32.const 84)) (i64.const 32)))))"#;
    let a = crate::load(wat);
    let t = TempDir::new("preview0");
    std::fs::write(t.path("f.txt"), "0123456789").unwrap();
    let ctx = WasiCtxBuilder::new()
        .preopened_dir(&t.0, ".", false)
        .build()
        .unwrap();
    let mut store = Store::new(ctx);
    let mut linker = Linker::<WasiCtx>::new();
    wasi::add_to_linker(&mut linker, |c| c);
    let i = linker.instantiate(&mut store, &a).unwrap();
    let open = i.get_typed_func::<(), i32>(&store, "open").unwrap();
    assert_eq!(open.call(&mut store, ()).unwrap(), 0);
    let seek = i.get_typed_func::<(i64, i32), i64>(&store, "seek").unwrap();
    // preview0: 0 = cur, 1 = end, 2 = set.
    assert_eq!(seek.call(&mut store, (4, 2)).unwrap(), 4);
    assert_eq!(seek.call(&mut store, (3, 0)).unwrap(), 7);
    assert_eq!(seek.call(&mut store, (-1, 1)).unwrap(), 9);
    assert_eq!(seek.call(&mut store, (0, 3)).unwrap(), -28, "EINVAL");
    let stat = i.get_typed_func::<(), i64>(&store, "stat").unwrap();
    assert_eq!(
        stat.call(&mut store, ()).unwrap(),
        (1 << 32) + 10,
        "nlink 1, size 10"
    );
}

/// Pointers outside memory are `EFAULT`; unknown fds `EBADF`; a bad clock `EINVAL`;
/// `proc_raise` `ENOTSUP`; sockets `ENOTSOCK`/`EBADF`; `poll_oneoff` reports stdin bytes.
#[test]
fn errors_use_the_spec_errno_values() {
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "clock_time_get" (func $time (param i32 i64 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_raise" (func $raise (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "sock_shutdown" (func $shut (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "write_oob") (result i32) (call $write (i32.const 1) (i32.const 65532) (i32.const 1) (i32.const 0)))
      (func (export "write_badf") (result i32) (call $write (i32.const 99) (i32.const 0) (i32.const 0) (i32.const 0)))
      (func (export "bad_clock") (result i32) (call $time (i32.const 9) (i64.const 0) (i32.const 0)))
      (func (export "raise") (result i32) (call $raise (i32.const 6)))
      (func (export "shut_stdout") (result i32) (call $shut (i32.const 1) (i32.const 0)))
      (func (export "shut_badf") (result i32) (call $shut (i32.const 42) (i32.const 0)))
      (func (export "prestat_stdout") (result i32) (call $prestat (i32.const 1) (i32.const 0)))
      (func (export "close_twice") (result i32)
        (drop (call $close (i32.const 2))) (call $close (i32.const 2)))
      ;; one fd_read subscription on stdin at 0; event at 100; count at 200
      (func (export "poll_stdin") (result i64)
        (i64.store (i32.const 0) (i64.const 7))
        (i32.store8 (i32.const 8) (i32.const 1))
        (i32.store (i32.const 16) (i32.const 0))
        (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
        ;; userdata + nbytes * 1000 + errno * 1000000 + type * 1000000000
        (i64.add (i64.load (i32.const 100))
          (i64.add (i64.mul (i64.load (i32.const 116)) (i64.const 1000))
            (i64.add (i64.mul (i64.load16_u (i32.const 108)) (i64.const 1000000))
              (i64.mul (i64.load8_u (i32.const 110)) (i64.const 1000000000)))))))"#;
    let a = crate::load(wat);
    let ctx = WasiCtxBuilder::new().stdin_bytes("hello").build().unwrap();
    let mut store = Store::new(ctx);
    let mut linker = Linker::<WasiCtx>::new();
    wasi::add_to_linker(&mut linker, |c| c);
    let i = linker.instantiate(&mut store, &a).unwrap();
    let mut call = |name: &str| {
        i.get_typed_func::<(), i32>(&store, name)
            .unwrap()
            .call(&mut store, ())
            .unwrap()
    };
    assert_eq!(call("write_oob"), 21, "EFAULT");
    assert_eq!(call("write_badf"), 8, "EBADF");
    assert_eq!(call("bad_clock"), 28, "EINVAL");
    assert_eq!(call("raise"), 58, "ENOTSUP");
    assert_eq!(call("shut_stdout"), 57, "ENOTSOCK");
    assert_eq!(call("shut_badf"), 8, "EBADF");
    assert_eq!(
        call("prestat_stdout"),
        8,
        "EBADF ends wasi-libc's preopen scan"
    );
    assert_eq!(call("close_twice"), 8, "EBADF");
    let poll = i.get_typed_func::<(), i64>(&store, "poll_stdin").unwrap();
    assert_eq!(
        poll.call(&mut store, ()).unwrap(),
        7 + 5 * 1000 + 1_000_000_000,
        "userdata 7, 5 bytes ready, no error, type fd_read"
    );
}

#[test]
fn non_wasi_imports_fail_to_link_naming_the_import() {
    let a = crate::load(
        r#"(module
             (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
             (import "env" "host_log" (func (param i32)))
             (func (export "_start")))"#,
    );
    let mut store = Store::new(WasiCtxBuilder::new().build().unwrap());
    let mut linker = Linker::<WasiCtx>::new();
    wasi::add_to_linker(&mut linker, |c| c);
    let err = linker.instantiate(&mut store, &a).unwrap_err();
    assert!(err.is_link(), "{err}");
    assert!(err.to_string().contains("env::host_log"), "{err}");
}

/// The benchmark corpus beside the repository (`../shared/bench`): every program prints the
/// checksum its README lists. In CI (`CI` set) a missing corpus fails the test.
mod bench {
    use super::*;

    fn corpus() -> Option<PathBuf> {
        let dir = repo_root().join("../shared/bench");
        if dir.join("README.md").is_file() {
            return Some(dir);
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "the benchmark corpus {} is missing (CI expects it beside the repository)",
            dir.display()
        );
        eprintln!("skipping: no benchmark corpus at {}", dir.display());
        None
    }

    /// The expected `checksum:` value of `program` from the README's table.
    fn expected_checksum(readme: &str, program: &str) -> String {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {program} ")))
            .unwrap_or_else(|| panic!("README lists no {program}"));
        let cell = row
            .trim_end()
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap();
        cell.trim().trim_matches('`').to_string()
    }

    fn check(program: &str) {
        let Some(dir) = corpus() else { return };
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        let want = expected_checksum(&readme, program);
        let artifact = load_wasm(&dir.join(format!("wasm/{program}.wasm")));
        let mut b = WasiCtxBuilder::new();
        b.arg(format!("{program}.wasm"));
        let o = run(&artifact, &mut b);
        assert_eq!(o.status, Some(0), "{program}: {:?}\n{}", o.trap, o.stderr);
        let line = o
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("checksum: "))
            .unwrap_or_else(|| panic!("{program} printed no checksum:\n{}", o.stdout));
        assert_eq!(line, want, "{program}");
    }

    macro_rules! bench_tests {
        ($($name:ident)*) => {$(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*};
    }

    bench_tests!(sieve fib matmul stencil nbody mandel sha256 sort text alloc);
}
