//! The embedding API (issue 3): import renaming and import maps, unknown imports as traps,
//! interrupts and deadlines, host errors and panics, reactor lifecycles, artifacts shared
//! across threads, and instantiate/drop cycles that leak nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wasmc_abi::TrapCode;
use wasmc_compiler::{CompileOptions, Compiler};
use wasmc_loader::{Artifact, Caller, Error, ImportMap, Linker, Store};

/// Imports from `wasi_unstable` and a monolithic `env`.
const IMPORTS: &str = r#"(module
  (import "wasi_unstable" "fd_write" (func $w (param i32) (result i32)))
  (import "env" "log" (func $log (param i32) (result i32)))
  (func (export "run") (param i32) (result i32)
    local.get 0 call $w
    local.get 0 call $log
    i32.add))"#;

fn add_n(n: i32) -> impl Fn(Caller<'_, ()>, i32) -> Result<i32, Error> + Send + Sync + 'static {
    move |_: Caller<'_, ()>, x: i32| Ok(x + n)
}

#[test]
fn module_renames_apply_before_single_renames() {
    let artifact = crate::load(IMPORTS);
    let mut linker = Linker::<()>::new();
    linker
        .func_wrap("wasi_snapshot_preview1", "fd_write", add_n(100))
        .unwrap()
        .func_wrap("host", "log", add_n(1000))
        .unwrap()
        // A single rename keyed by the module *after* module renames.
        .func_wrap("wasi_snapshot_preview1", "other_write", add_n(10))
        .unwrap();
    linker
        .rename_module("wasi_unstable", "wasi_snapshot_preview1")
        .rename("env", "log", "host", "log");
    assert_eq!(
        linker.resolve_name("wasi_unstable", "fd_write"),
        ("wasi_snapshot_preview1", "fd_write")
    );
    let mut store = Store::new(());
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    let run = i.get_typed_func::<i32, i32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, 1).unwrap(), 101 + 1001);

    // The single rename sees the renamed module, so this one applies to `wasi_unstable`.
    linker.rename(
        "wasi_snapshot_preview1",
        "fd_write",
        "wasi_snapshot_preview1",
        "other_write",
    );
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    let run = i.get_typed_func::<i32, i32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, 1).unwrap(), 11 + 1001);
}

#[test]
fn link_errors_name_the_declared_and_the_renamed_import() {
    let artifact = crate::load(IMPORTS);
    let mut linker = Linker::<()>::new();
    linker.rename_module("wasi_unstable", "wasi_snapshot_preview1");
    let mut store = Store::new(());
    let e = linker.instantiate(&mut store, &artifact).unwrap_err();
    assert!(e.is_link());
    let msg = e.to_string();
    assert!(
        msg.starts_with("unknown import: `wasi_unstable::fd_write` (renamed to `wasi_snapshot_preview1::fd_write`)"),
        "{msg}"
    );
    assert!(
        msg.contains("expected function [i32] -> [i32]") || msg.contains("expected function"),
        "{msg}"
    );

    // A type mismatch after renaming names both too.
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "fd_write",
            |_: Caller<'_, ()>, x: i64| Ok(x),
        )
        .unwrap()
        .func_wrap("env", "log", add_n(1))
        .unwrap();
    let e = linker.instantiate(&mut store, &artifact).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("incompatible import type for `wasi_unstable::fd_write` (renamed to `wasi_snapshot_preview1::fd_write`)"),
        "{msg}"
    );
}

#[test]
fn import_maps_rename_like_the_linker() {
    let artifact = crate::load(IMPORTS);
    let map = ImportMap::parse(
        "# from a file\nmodule wasi_unstable = wasi_snapshot_preview1\nimport env.log = host.log\n",
    )
    .unwrap();
    let mut linker = Linker::<()>::new();
    linker
        .func_wrap("wasi_snapshot_preview1", "fd_write", add_n(100))
        .unwrap()
        .func_wrap("host", "log", add_n(1000))
        .unwrap()
        .apply_import_map(&map);
    let mut store = Store::new(());
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    let run = i.get_typed_func::<i32, i32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, 0).unwrap(), 1100);

    let e = ImportMap::parse("module a = b\nimport x = y.z\n").unwrap_err();
    assert_eq!(e.line, 2);
}

#[test]
fn unknown_imports_can_be_defined_as_traps() {
    let artifact = crate::load(
        r#"(module
          (import "env" "never_called" (func $n (param i64)))
          (import "env" "used" (func $u (result i32)))
          (func (export "ok") (result i32) call $u)
          (func (export "bad") i64.const 1 call $n))"#,
    );
    let mut linker = Linker::<()>::new();
    linker
        .func_wrap("env", "used", |_: Caller<'_, ()>| Ok(7))
        .unwrap();
    let mut store = Store::new(());
    assert!(
        linker
            .instantiate(&mut store, &artifact)
            .unwrap_err()
            .is_link()
    );
    linker.define_unknown_imports_as_traps(&artifact).unwrap();
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    let ok = i.get_typed_func::<(), i32>(&store, "ok").unwrap();
    assert_eq!(
        ok.call(&mut store, ()).unwrap(),
        7,
        "the defined import is kept"
    );
    let bad = i.get_typed_func::<(), ()>(&store, "bad").unwrap();
    let e = bad.call(&mut store, ()).unwrap_err();
    assert!(e.is_trap(), "{e:?}");
    assert!(
        e.to_string().contains("unknown import `env::never_called`"),
        "{e}"
    );
    assert_eq!(ok.call(&mut store, ()).unwrap(), 7, "the instance goes on");
}

const SPIN: &str = r#"(module
  (func (export "spin") (loop $l br $l))
  (func (export "count") (param i32) (result i32)
    (local i32)
    (loop $l
      local.get 1 i32.const 1 i32.add local.set 1
      local.get 1 local.get 0 i32.lt_u br_if $l)
    local.get 1))"#;

#[test]
fn an_interrupt_from_another_thread_stops_an_infinite_loop() {
    let artifact = crate::load(SPIN);
    assert!(
        artifact.is_interruptible(),
        "epoch checks are on by default"
    );
    let mut store = Store::new(());
    let i = Linker::new().instantiate(&mut store, &artifact).unwrap();
    let spin = i.get_typed_func::<(), ()>(&store, "spin").unwrap();
    let handle = store.interrupt_handle();
    let fired = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let fired2 = fired.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        *fired2.lock().unwrap() = Some(Instant::now());
        handle.interrupt();
    });
    let e = spin.call(&mut store, ()).unwrap_err();
    let stopped = Instant::now();
    t.join().unwrap();
    assert!(e.is_interrupt(), "{e:?}");
    assert_eq!(e.trap_code(), Some(TrapCode::Interrupt));
    let latency = stopped - fired.lock().unwrap().expect("interrupt fired");
    // The issue asks for 10 ms; allow scheduling noise on a loaded machine.
    assert!(latency < Duration::from_millis(500), "took {latency:?}");
    // The store goes on, and the interrupt was consumed.
    let count = i.get_typed_func::<i32, i32>(&store, "count").unwrap();
    assert_eq!(count.call(&mut store, 1000).unwrap(), 1000);
}

#[test]
fn deadlines_stop_guests_and_can_be_rearmed_or_cleared() {
    let artifact = crate::load(SPIN);
    let mut store = Store::new(());
    let i = Linker::new().instantiate(&mut store, &artifact).unwrap();
    let spin = i.get_typed_func::<(), ()>(&store, "spin").unwrap();
    let count = i.get_typed_func::<i32, i32>(&store, "count").unwrap();
    for ms in [20u64, 5] {
        store.set_deadline(Duration::from_millis(ms)).unwrap();
        let start = Instant::now();
        let e = spin.call(&mut store, ()).unwrap_err();
        let took = start.elapsed();
        assert!(e.is_interrupt(), "{e:?}");
        assert!(took >= Duration::from_millis(ms), "stopped early: {took:?}");
        assert!(took < Duration::from_millis(ms + 500), "took {took:?}");
    }
    // A deadline that does not pass does not disturb a short call, and can be cleared.
    store.set_deadline(Duration::from_secs(60)).unwrap();
    assert_eq!(count.call(&mut store, 10).unwrap(), 10);
    store.set_deadline(Duration::from_millis(1)).unwrap();
    store.clear_deadline();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(count.call(&mut store, 10).unwrap(), 10);
    // Re-arming replaces the earlier deadline. (50 ms, not less: on a loaded machine a
    // shorter one could pass between the two calls, and then it rightly stops the next call.)
    store.set_deadline(Duration::from_millis(50)).unwrap();
    store.set_deadline(Duration::from_secs(60)).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(count.call(&mut store, 10).unwrap(), 10);
    store.clear_deadline();
}

#[test]
fn code_without_epoch_checks_refuses_deadlines() {
    let wasm = wat::parse_str(SPIN).unwrap();
    let bytes = Compiler::new(&CompileOptions::new().epoch_interruption(false))
        .unwrap()
        .compile(&wasm)
        .unwrap();
    // SAFETY: the bytes come straight from the wasmc compiler.
    #[allow(unsafe_code, reason = "loading bytes this test compiled")]
    let artifact = unsafe { Artifact::from_bytes(&bytes) }.unwrap();
    assert!(!artifact.is_interruptible());
    let mut store = Store::new(());
    let i = Linker::new().instantiate(&mut store, &artifact).unwrap();
    let e = store.set_deadline(Duration::from_millis(1)).unwrap_err();
    assert!(e.to_string().contains("without epoch checks"), "{e}");
    let count = i.get_typed_func::<i32, i32>(&store, "count").unwrap();
    assert_eq!(count.call(&mut store, 5).unwrap(), 5);
}

#[derive(Debug, PartialEq)]
struct Refused(u32);
impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused {}", self.0)
    }
}
impl std::error::Error for Refused {}

#[test]
fn host_errors_come_back_unchanged_and_panics_resume_after_the_wasm_frames() {
    let artifact = crate::load(
        r#"(module
          (import "env" "cb" (func $cb (param i32)))
          (func (export "go") (param i32) (loop $l local.get 0 call $cb br $l)))"#,
    );
    let mut linker = Linker::<u32>::new();
    linker
        .func_wrap("env", "cb", |mut c: Caller<'_, u32>, x: i32| {
            *c.data_mut() += 1;
            match x {
                0 => Err(Error::host(Refused(7))),
                1 => panic!("host panic {x}"),
                _ => Ok(()),
            }
        })
        .unwrap();
    let mut store = Store::new(0u32);
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    let go = i.get_typed_func::<i32, ()>(&store, "go").unwrap();
    let e = go.call(&mut store, 0).unwrap_err();
    assert_eq!(e.downcast_ref::<Refused>(), Some(&Refused(7)));
    assert!(!e.is_trap());

    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| go.call(&mut store, 1)))
        .expect_err("the host panic propagates");
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("host panic 1")
    );
    // The store is intact after both.
    assert_eq!(*store.data(), 2);
    let e = go.call(&mut store, 0).unwrap_err();
    assert!(e.downcast_ref::<Refused>().is_some());
}

const REACTOR: &str = r#"(module
  (global $ready (mut i32) (i32.const 0))
  (global $calls (mut i32) (i32.const 0))
  (func (export "_initialize") global.get $ready i32.const 1 i32.add global.set $ready)
  (func (export "next") (result i32)
    global.get $calls i32.const 1 i32.add global.set $calls
    global.get $calls global.get $ready i32.const 1000 i32.mul i32.add))"#;

#[test]
fn reactors_initialise_once_before_their_exports() {
    let artifact = crate::load(REACTOR);
    let mut store = Store::new(());
    // The linker runs `_initialize` itself.
    let i = Linker::new().instantiate(&mut store, &artifact).unwrap();
    assert!(!i.needs_initialize(&store));
    let next = i.get_typed_func::<(), i32>(&store, "next").unwrap();
    for n in 1..=3 {
        assert_eq!(next.call(&mut store, ()).unwrap(), 1000 + n);
    }
    let e = i.initialize_reactor(&mut store).unwrap_err();
    assert!(e.to_string().contains("already initialised"), "{e}");

    // Without it, exports are refused until the host initialises.
    let i = Linker::new()
        .instantiate_uninitialized(&mut store, &artifact)
        .unwrap();
    assert!(i.needs_initialize(&store));
    let next = i.get_typed_func::<(), i32>(&store, "next").unwrap();
    let e = next.call(&mut store, ()).unwrap_err();
    assert!(e.to_string().contains("`_initialize` has not run"), "{e}");
    i.initialize_reactor(&mut store).unwrap();
    assert_eq!(next.call(&mut store, ()).unwrap(), 1001);

    // Calling `_initialize` as an ordinary export initialises too.
    let i = wasmc_loader::Instance::new(&mut store, &artifact, &[]).unwrap();
    assert!(i.needs_initialize(&store));
    let init = i.get_typed_func::<(), ()>(&store, "_initialize").unwrap();
    init.call(&mut store, ()).unwrap();
    assert!(!i.needs_initialize(&store));

    // A command module is not a reactor.
    let (mut store, cmd) = crate::instantiate(r#"(module (func (export "_start")))"#);
    assert!(!cmd.needs_initialize(&store));
    assert!(cmd.initialize_reactor(&mut store).is_err());
    let start = cmd.get_typed_func::<(), ()>(&store, "_start").unwrap();
    start.call(&mut store, ()).unwrap();
}

#[test]
fn one_artifact_runs_on_many_threads_at_once() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Artifact>();
    send_sync::<wasmc_loader::InterruptHandle>();
    let artifact = crate::load(SPIN);
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let artifact = artifact.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut store = Store::new(());
                let i = Linker::new().instantiate(&mut store, &artifact).unwrap();
                let count = i.get_typed_func::<i32, i32>(&store, "count").unwrap();
                for k in 0..200 {
                    let n = t * 1000 + k;
                    assert_eq!(count.call(&mut store, n).unwrap(), n.max(1));
                }
                done.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), 4);
}

/// Resident set size in pages, from `/proc/self/statm` (Linux only).
fn rss_pages() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    s.split_whitespace().nth(1)?.parse().ok()
}

/// Number of mappings of the process, from `/proc/self/maps` (Linux only).
fn mappings() -> Option<usize> {
    Some(
        std::fs::read_to_string("/proc/self/maps")
            .ok()?
            .lines()
            .count(),
    )
}

/// RSS is process-wide and the other tests of this binary run on other threads, so the
/// cycles run in a child process that runs only [`leak_check_child`].
#[test]
fn instantiate_drop_cycles_leak_nothing() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "embedding::leak_check_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WASMC_LEAK_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// 100,000 instantiate/call/drop cycles of a module with every kind of entity; run by
/// [`instantiate_drop_cycles_leak_nothing`] in a process of its own.
#[test]
#[ignore = "run in a child process by instantiate_drop_cycles_leak_nothing"]
fn leak_check_child() {
    assert!(
        std::env::var_os("WASMC_LEAK_CHILD").is_some(),
        "run through instantiate_drop_cycles_leak_nothing"
    );
    let artifact = crate::load(
        r#"(module
          (import "env" "f" (func $f (param i32) (result i32)))
          (memory (export "mem") 1)
          (table 2 funcref)
          (global (mut i32) (i32.const 1))
          (data (i32.const 0) "hello")
          (elem (i32.const 0) $g)
          (func $g (export "g") (param i32) (result i32) local.get 0 call $f))"#,
    );
    let mut linker = Linker::<()>::new();
    linker
        .func_wrap("env", "f", |_: Caller<'_, ()>, x: i32| Ok(x + 1))
        .unwrap();
    let cycle = || {
        let mut store = Store::new(());
        let i = linker.instantiate(&mut store, &artifact).unwrap();
        let g = i.get_typed_func::<i32, i32>(&store, "g").unwrap();
        assert_eq!(g.call(&mut store, 1).unwrap(), 2);
    };
    // Warm up allocator caches and thread-locals first.
    for _ in 0..1000 {
        cycle();
    }
    let (rss0, maps0) = (rss_pages(), mappings());
    for _ in 0..100_000 {
        cycle();
    }
    let (rss1, maps1) = (rss_pages(), mappings());
    println!("mappings {maps0:?} -> {maps1:?}, RSS pages {rss0:?} -> {rss1:?}");
    if let (Some(a), Some(b)) = (maps0, maps1) {
        assert!(b <= a + 8, "mappings grew from {a} to {b}");
    }
    if let (Some(a), Some(b)) = (rss0, rss1) {
        // 100,000 leaked vmctxs alone would be tens of MiB; allow 1 MiB of allocator noise.
        assert!(b <= a + 256, "RSS grew from {a} to {b} pages");
    }
}

/// Leaf functions (no calls) have no interruption check at their entry; an interrupt pending
/// when the host calls one still stops that call, because the loader checks before entering,
/// and only a call compiled with checks is stopped that way. A leaf called from Wasm runs on:
/// its caller checks.
#[test]
fn a_pending_interrupt_stops_a_call_into_a_leaf_function() {
    let artifact = crate::load(
        r#"(module
             (func $leaf (export "leaf") (result i32) i32.const 7)
             (func (export "calls_leaf") (result i32) call $leaf))"#,
    );
    let mut store = Store::new(());
    let i = Linker::new().instantiate(&mut store, &artifact).unwrap();
    let leaf = i.get_typed_func::<(), i32>(&store, "leaf").unwrap();
    let calls_leaf = i.get_typed_func::<(), i32>(&store, "calls_leaf").unwrap();
    for f in [leaf, calls_leaf] {
        store.interrupt_handle().interrupt();
        let e = f.call(&mut store, ()).unwrap_err();
        assert!(e.is_interrupt(), "{e:?}");
        // Consumed by the call it stopped: the next one runs.
        assert_eq!(f.call(&mut store, ()).unwrap(), 7);
    }
    // The untyped path checks too.
    store.interrupt_handle().interrupt();
    let e = i
        .get_func(&store, "leaf")
        .unwrap()
        .call(&mut store, &[], &mut [wasmc_loader::Val::I32(0)])
        .unwrap_err();
    assert!(e.is_interrupt(), "{e:?}");

    // Code compiled without checks is never stopped, leaf or not.
    let wasm =
        wat::parse_str(r#"(module (func (export "leaf") (result i32) i32.const 7))"#).unwrap();
    let opts = wasmc_compiler::CompileOptions::new().epoch_interruption(false);
    let compiler = wasmc_compiler::Compiler::new(&opts).unwrap();
    let unchecked = wasmc_cli::input::compile_and_load(&compiler, &wasm).unwrap();
    let mut store = Store::new(());
    let i = Linker::new().instantiate(&mut store, &unchecked).unwrap();
    let leaf = i.get_typed_func::<(), i32>(&store, "leaf").unwrap();
    store.interrupt_handle().interrupt();
    assert_eq!(leaf.call(&mut store, ()).unwrap(), 7);
}

/// Function entries have no interruption check of their own: the loader makes the prologue's
/// stack-limit check fail while the store must stop. Recursion without any loop is stopped
/// that way, reported as `Interrupt` (not as a stack overflow), and the store goes on.
#[test]
fn interrupts_stop_recursion_that_has_no_loop() {
    let artifact = crate::load(
        r#"(module
             ;; Doubly recursive, no loop: 2^n calls.
             (func $calls (export "calls") (param i32) (result i32)
               local.get 0
               i32.eqz
               if (result i32)
                 i32.const 1
               else
                 local.get 0 i32.const 1 i32.sub call $calls
                 local.get 0 i32.const 1 i32.sub call $calls
                 i32.add
               end)
             (func $deep (export "deep") call $deep))"#,
    );
    let mut store = Store::new(());
    let i = Linker::new().instantiate(&mut store, &artifact).unwrap();
    let calls = i.get_typed_func::<i32, i32>(&store, "calls").unwrap();
    let handle = store.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.interrupt();
    });
    let start = Instant::now();
    let e = calls.call(&mut store, 62).unwrap_err();
    t.join().unwrap();
    assert_eq!(e.trap_code(), Some(TrapCode::Interrupt), "{e:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
    // Consumed: the store runs normally again, and a real overflow is still one.
    assert_eq!(calls.call(&mut store, 10).unwrap(), 1024);
    let deep = i.get_typed_func::<(), ()>(&store, "deep").unwrap();
    let e = deep.call(&mut store, ()).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::StackOverflow), "{e:?}");
    assert_eq!(calls.call(&mut store, 3).unwrap(), 8);

    // A deadline stops it the same way.
    store.set_deadline(Duration::from_millis(20)).unwrap();
    let e = calls.call(&mut store, 62).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::Interrupt), "{e:?}");
    store.clear_deadline();
    assert_eq!(calls.call(&mut store, 4).unwrap(), 16);
}

/// A stop withdrawn while the guest is inside a host call (here: an interrupt the host
/// function itself requests and then clears) must not stop the guest's later calls: the
/// stack limit goes back to the real one.
#[test]
fn a_stop_withdrawn_during_a_host_call_lets_the_guest_go_on() {
    let artifact = crate::load(
        r#"(module
             (import "env" "h" (func $h))
             (func $twice (param i32) (result i32) local.get 0 call $id local.get 0 i32.add)
             (func $id (param i32) (result i32) (local i64) local.get 0)
             (func (export "run") (result i32)
               call $h
               i32.const 21
               call $twice))"#,
    );
    let mut linker = Linker::<()>::new();
    linker
        .func_wrap("env", "h", |mut caller: Caller<'_, ()>| {
            let store = caller.store();
            store.interrupt_handle().interrupt();
            store.clear_deadline();
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(());
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    let run = i.get_typed_func::<(), i32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 42);
    // Not withdrawn: the guest stops at its next call after the host function returns.
    let mut linker = Linker::<()>::new();
    linker
        .func_wrap("env", "h", |mut caller: Caller<'_, ()>| {
            caller.store().interrupt_handle().interrupt();
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(());
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    let run = i.get_typed_func::<(), i32>(&store, "run").unwrap();
    let e = run.call(&mut store, ()).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::Interrupt), "{e:?}");
    assert_eq!(
        run.call(&mut store, ()).unwrap_err().trap_code(),
        Some(TrapCode::Interrupt)
    );
}

/// Loops that never call and never end: `spin_leaf` is a frameless leaf (only a signal can
/// stop it), `spin_deep` loops three calls down, `count` returns.
const LOOPS: &str = r#"(module
  (import "env" "pause" (func $pause))
  (func $spin_leaf (export "spin_leaf") (param i32) (result i32) (local i32)
    (loop $l
      local.get 1 local.get 0 i32.add local.set 1
      local.get 1 br_if $l)
    local.get 1)
  (func $mid (param i32) (result i32) local.get 0 call $spin_leaf)
  (func (export "spin_deep") (param i32) (result i32) local.get 0 call $mid)
  (func (export "pause_then_spin") (param i32) (result i32)
    call $pause
    local.get 0 call $spin_leaf)
  (func (export "count") (param i32) (result i32) (local i32)
    (loop $l
      local.get 1 i32.const 1 i32.add local.set 1
      local.get 1 local.get 0 i32.lt_u br_if $l)
    local.get 1))"#;

fn loops_instance(
    options: &CompileOptions,
    pause: Duration,
) -> (Store<()>, wasmc_loader::Instance) {
    let artifact = wasmc_cli::input::compile_and_load(
        &Compiler::new(options).unwrap(),
        &wat::parse_str(LOOPS).unwrap(),
    )
    .unwrap();
    let mut linker = Linker::<()>::new();
    linker
        .func_wrap("env", "pause", move |_: Caller<'_, ()>| {
            std::thread::sleep(pause);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(());
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    (store, i)
}

/// Interrupts `store` from another thread after `after` while `run` runs; returns `run`'s error.
fn interrupt_during(
    store: &mut Store<()>,
    after: Duration,
    run: impl FnOnce(&mut Store<()>) -> Result<i32, Error>,
) -> Error {
    let handle = store.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(after);
        handle.interrupt();
    });
    let e = run(store).expect_err("the loop never ends by itself");
    t.join().unwrap();
    e
}

/// Code compiled to be stopped by signal (the default on Linux) has no check in its loops:
/// the loader signals the running thread and the handler stops it wherever it is in a body.
#[test]
fn loops_without_checks_are_stopped_by_signal_wherever_they_are() {
    for signal in [true, false] {
        let opts = CompileOptions::new().interrupt_by_signal(signal);
        let (mut store, i) = loops_instance(&opts, Duration::ZERO);
        let leaf = i.get_typed_func::<i32, i32>(&store, "spin_leaf").unwrap();
        let deep = i.get_typed_func::<i32, i32>(&store, "spin_deep").unwrap();
        for round in 0..20 {
            let f = if round % 2 == 0 { &leaf } else { &deep };
            let e = interrupt_during(&mut store, Duration::from_millis(2), |s| f.call(s, 1));
            let trap = e.as_trap().unwrap_or_else(|| panic!("{e:?}"));
            assert_eq!(trap.code, TrapCode::Interrupt, "signal {signal}: {e:?}");
            // Stopped inside the loop, with the Wasm frames that led there.
            assert_eq!(trap.func_index, Some(1), "{e:?}");
            let frames: Vec<u32> = trap.backtrace.iter().map(|f| f.func_index).collect();
            if round % 2 == 0 {
                assert_eq!(frames.first(), Some(&1), "{e:?}");
            } else {
                assert!(
                    frames.starts_with(&[1]) && frames.ends_with(&[3]),
                    "{frames:?}"
                );
            }
        }
        // The interrupt was consumed: the store goes on.
        let count = i.get_typed_func::<i32, i32>(&store, "count").unwrap();
        assert_eq!(count.call(&mut store, 1000).unwrap(), 1000);
        // Epoch deadlines stop such loops too.
        store.set_epoch_deadline(1);
        let t = std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(5));
            wasmc_loader::increment_epoch();
        });
        let e = leaf.call(&mut store, 1).unwrap_err();
        t.join().unwrap();
        assert!(e.is_interrupt(), "{e:?}");
    }
}

/// A stop that comes while the guest is in a host function finds no Wasm running (the host
/// function is never signalled); the guest stops as soon as the host function returns, even
/// into a loop that has no check.
#[test]
fn a_stop_during_a_host_call_takes_effect_when_it_returns() {
    let (mut store, i) = loops_instance(&CompileOptions::new(), Duration::from_millis(40));
    let run = i
        .get_typed_func::<i32, i32>(&store, "pause_then_spin")
        .unwrap();
    let start = Instant::now();
    let e = interrupt_during(&mut store, Duration::from_millis(5), |s| run.call(s, 1));
    assert!(e.is_interrupt(), "{e:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(40),
        "the host function slept its whole time"
    );
}

/// Stores running on several threads at once are each stopped, and only when asked.
#[test]
fn interrupting_stores_on_many_threads_stops_each_of_them() {
    let artifact = Arc::new(
        wasmc_cli::input::compile_and_load(
            &Compiler::new(&CompileOptions::new()).unwrap(),
            &wat::parse_str(LOOPS).unwrap(),
        )
        .unwrap(),
    );
    for _round in 0..10 {
        let (tx, rx) = std::sync::mpsc::channel();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let artifact = artifact.clone();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let mut linker = Linker::<()>::new();
                    linker
                        .func_wrap("env", "pause", |_: Caller<'_, ()>| Ok(()))
                        .unwrap();
                    let mut store = Store::new(());
                    let i = linker.instantiate(&mut store, &artifact).unwrap();
                    let spin = i.get_typed_func::<i32, i32>(&store, "spin_deep").unwrap();
                    let count = i.get_typed_func::<i32, i32>(&store, "count").unwrap();
                    tx.send(store.interrupt_handle()).unwrap();
                    let e = spin.call(&mut store, 1).unwrap_err();
                    assert!(e.is_interrupt(), "{e:?}");
                    count.call(&mut store, 100_000).unwrap()
                })
            })
            .collect();
        let handles: Vec<_> = (0..4).map(|_| rx.recv().unwrap()).collect();
        std::thread::sleep(Duration::from_millis(2));
        for h in &handles {
            h.interrupt();
        }
        for t in threads {
            assert_eq!(t.join().unwrap(), 100_000);
        }
    }
}

/// Interrupts fired at random moments into a guest that keeps crossing every boundary a
/// signal can land near (host calls, a host function calling back into Wasm, builtins,
/// `call_indirect`, frameless loops): every call either finishes with the right result or
/// stops with `Interrupt`, never anything else, and the store stays usable throughout.
#[test]
fn interrupts_at_random_moments_never_break_a_call() {
    let artifact = crate::load(
        r#"(module
             (import "env" "reenter" (func $reenter (param i32) (result i32)))
             (memory 1)
             (table 2 2 funcref)
             (elem (i32.const 0) $leaf $leaf)
             (type $t (func (param i32) (result i32)))
             (func $leaf (export "leaf") (param i32) (result i32) (local i32)
               (loop $l
                 local.get 1 i32.const 1 i32.add local.tee 1
                 local.get 0 i32.lt_u br_if $l)
               local.get 1)
             (func (export "work") (param i32) (result i32) (local i32 i32)
               (loop $l
                 (local.set 2 (i32.add (local.get 2)
                   (call_indirect (type $t) (i32.const 50) (i32.and (local.get 1) (i32.const 1)))))
                 (local.set 2 (i32.add (local.get 2) (memory.grow (i32.const 0))))
                 (local.set 2 (i32.add (local.get 2) (call $reenter (i32.const 20))))
                 local.get 1 i32.const 1 i32.add local.tee 1
                 local.get 0 i32.lt_u br_if $l)
               local.get 2))"#,
    );
    let mut linker = Linker::<()>::new();
    linker
        .func_wrap("env", "reenter", |mut caller: Caller<'_, ()>, n: i32| {
            let leaf = caller
                .get_export("leaf")
                .and_then(|e| e.into_func())
                .expect("leaf export");
            let mut out = [wasmc_loader::Val::I32(0)];
            leaf.call(caller.store(), &[wasmc_loader::Val::I32(n)], &mut out)?;
            Ok(out[0].i32().expect("leaf returns an i32"))
        })
        .unwrap();
    let mut store = Store::new(());
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    let work = i.get_typed_func::<i32, i32>(&store, "work").unwrap();
    let handle = store.interrupt_handle();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let interrupter = std::thread::spawn(move || {
        let mut seed = 0x9e37_79b9_u32;
        while !stop2.load(Ordering::SeqCst) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            std::thread::sleep(Duration::from_micros(u64::from(seed % 300)));
            handle.interrupt();
        }
    });
    let (mut finished, mut stopped) = (0, 0);
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(300) || finished == 0 || stopped == 0 {
        match work.call(&mut store, 40) {
            // Per turn: 50 from the leaf, 1 page from memory.grow(0), 20 from the re-entry.
            Ok(v) => {
                assert_eq!(v, 40 * 71);
                finished += 1;
            }
            Err(e) => {
                assert!(e.is_interrupt(), "{e:?}");
                stopped += 1;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{finished} {stopped}"
        );
    }
    stop.store(true, Ordering::SeqCst);
    interrupter.join().unwrap();
    // A pending interrupt may be left for the next call; it is consumed by that call.
    store.interrupt_handle().interrupt();
    assert!(work.call(&mut store, 1).unwrap_err().is_interrupt());
    assert_eq!(work.call(&mut store, 2).unwrap(), 2 * 71);
}
