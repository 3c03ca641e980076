//! The trap handlers and the host's own signal handlers: faults outside Wasm code reach the
//! handler the host installed before the loader's (also while Wasm is on the stack, from a host
//! function), the handlers run on an alternate stack, Wasm faults never reach the host's
//! handler, and many threads trapping at once all get the right results.
//!
//! Installing process-wide signal handlers would disturb the other tests of this binary, so
//! the chaining test re-runs this test binary as a child process (selecting itself by name,
//! with an environment variable that says "you are the child") and checks its exit status.

#![allow(
    unsafe_code,
    reason = "signal handlers and raw mappings; each use says why"
)]

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use wasmc_loader::{Artifact, Caller, Error, Linker, Store, TrapCode};

/// Set in the child process: the test is to do the real work.
const CHILD_ENV: &str = "WASMC_SIGNALS_TEST_CHILD";

fn compile(wat: &str) -> Artifact {
    let wasm = wat::parse_str(wat).expect("test module parses");
    let bytes = wasmc_compiler::compile(&wasm).expect("test module compiles");
    // SAFETY: our own compiler's output, just produced.
    unsafe { Artifact::from_bytes(&bytes) }.expect("test artifact loads")
}

/// Runs the test named `name` of this binary in a child process and returns how it ended.
fn run_child(name: &str) -> std::process::ExitStatus {
    let out = Command::new(std::env::current_exe().expect("test binary path"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("running the child test process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() || stdout.contains("1 passed"),
        "the child did not run the test:\n{stdout}"
    );
    if !out.status.success() {
        eprintln!(
            "child stdout:\n{stdout}\nchild stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status
}

// State of the host's handler, for the child process.
static GUARD_PAGE: AtomicUsize = AtomicUsize::new(0);
static HOST_HANDLED: AtomicUsize = AtomicUsize::new(0);
static HOST_ON_ALT_STACK: AtomicBool = AtomicBool::new(true);

/// Exit status of the child when the host's handler saw a fault it did not expect.
const UNEXPECTED_FAULT: i32 = 86;

/// The host's own SIGSEGV handler: it owns one guard page, and "handles" a fault there by
/// making the page readable (so the faulting load is retried and succeeds). Any other fault
/// would be a bug of the test or of the chaining: exit with a distinctive status.
extern "C" fn host_handler(_sig: libc::c_int, info: *mut libc::siginfo_t, _uc: *mut libc::c_void) {
    // SAFETY: the kernel passed a valid siginfo for SIGSEGV.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = GUARD_PAGE.load(Ordering::SeqCst);
    if page == 0 || addr != page {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(UNEXPECTED_FAULT) };
    }
    // SAFETY: querying the current alternate stack is async-signal-safe.
    let mut ss: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid out pointer.
    unsafe { libc::sigaltstack(std::ptr::null(), &mut ss) };
    if ss.ss_flags & libc::SS_ONSTACK == 0 {
        HOST_ON_ALT_STACK.store(false, Ordering::SeqCst);
    }
    HOST_HANDLED.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the page is ours (mapped by the test); mprotect is async-signal-safe.
    unsafe {
        libc::mprotect(
            page as *mut libc::c_void,
            page_size(),
            libc::PROT_READ | libc::PROT_WRITE,
        )
    };
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

/// Maps one inaccessible page for the host's handler to own.
fn arm_guard_page() -> usize {
    // SAFETY: a fresh anonymous mapping.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            page_size(),
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED);
    GUARD_PAGE.store(p as usize, Ordering::SeqCst);
    p as usize
}

/// Reads the guard page: a real SIGSEGV outside Wasm code that the host's handler fixes.
fn touch(page: usize) -> u8 {
    // SAFETY: the page is mapped; the first access faults and the host's handler makes it
    // readable before the load is retried.
    unsafe { std::ptr::read_volatile(page as *const u8) }
}

const TRAPPING_MODULE: &str = r#"(module
  (import "host" "touch" (func $touch (result i32)))
  (memory 1)
  (func (export "oob") (param i32) (result i32) local.get 0 i32.load)
  (func (export "unreachable") unreachable)
  (func (export "div") (param i32) (result i32) i32.const 7 local.get 0 i32.div_u)
  (func (export "touch_from_wasm") (result i32) call $touch i32.const 1 i32.add))"#;

#[test]
fn faults_outside_wasm_reach_the_hosts_earlier_handler() {
    if std::env::var_os(CHILD_ENV).is_none() {
        let status = run_child("faults_outside_wasm_reach_the_hosts_earlier_handler");
        assert_eq!(
            status.code(),
            Some(0),
            "the child process failed (see its output above)"
        );
        return;
    }
    // --- child process ---
    // 1. The host installs its SIGSEGV handler before anything of wasmc runs.
    // SAFETY: installing a valid three-argument handler.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = host_handler as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut()),
            0
        );
    }
    // 2. Wasm runs (installing the loader's handlers) and traps through SIGSEGV, SIGILL and
    //    SIGFPE: the host's handler never sees those.
    let artifact = compile(TRAPPING_MODULE);
    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker
        .func_wrap(
            "host",
            "touch",
            |_c: Caller<'_, ()>| -> Result<i32, Error> {
                let page = arm_guard_page();
                Ok(i32::from(touch(page)))
            },
        )
        .unwrap();
    let inst = linker.instantiate(&mut store, &artifact).unwrap();
    let oob = inst.get_typed_func::<i32, i32>(&store, "oob").unwrap();
    let unreachable = inst
        .get_typed_func::<(), ()>(&store, "unreachable")
        .unwrap();
    let div = inst.get_typed_func::<i32, i32>(&store, "div").unwrap();
    let from_wasm = inst
        .get_typed_func::<(), i32>(&store, "touch_from_wasm")
        .unwrap();
    let check_wasm_traps = |store: &mut Store<()>| {
        let e = oob.call(store, 65536).unwrap_err();
        assert_eq!(e.trap_code(), Some(TrapCode::MemoryOutOfBounds));
        let e = unreachable.call(store, ()).unwrap_err();
        assert_eq!(e.trap_code(), Some(TrapCode::UnreachableCodeReached));
        let e = div.call(store, 0).unwrap_err();
        assert_eq!(e.trap_code(), Some(TrapCode::IntegerDivisionByZero));
    };
    check_wasm_traps(&mut store);
    assert_eq!(HOST_HANDLED.load(Ordering::SeqCst), 0);

    // 3. A fault in host code with no Wasm on the stack goes to the host's handler.
    let page = arm_guard_page();
    assert_eq!(touch(page), 0);
    assert_eq!(HOST_HANDLED.load(Ordering::SeqCst), 1);

    // 4. A fault in a host function called from Wasm (an activation is live, but the pc is
    //    not in Wasm code) goes to the host's handler too, and the call completes.
    assert_eq!(from_wasm.call(&mut store, ()).unwrap(), 1);
    assert_eq!(HOST_HANDLED.load(Ordering::SeqCst), 2);

    // 5. Wasm traps still work afterwards, and still do not reach the host.
    check_wasm_traps(&mut store);
    assert_eq!(HOST_HANDLED.load(Ordering::SeqCst), 2);
    // The host's handler was called from ours, on the alternate stack the loader set up.
    assert!(HOST_ON_ALT_STACK.load(Ordering::SeqCst));
}

/// Sets `sig` to `action` (`SIG_DFL` or `SIG_IGN`).
fn set_action(sig: libc::c_int, action: libc::sighandler_t) {
    // SAFETY: a zeroed sigaction with a valid disposition.
    unsafe {
        let mut a: libc::sigaction = std::mem::zeroed();
        a.sa_sigaction = action;
        libc::sigemptyset(&mut a.sa_mask);
        assert_eq!(libc::sigaction(sig, &a, std::ptr::null_mut()), 0);
    }
}

/// Installs the loader's handlers (by trapping once) and checks a trap works.
fn trap_once() {
    let artifact = compile(TRAPPING_MODULE);
    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker
        .func_wrap(
            "host",
            "touch",
            |_c: Caller<'_, ()>| -> Result<i32, Error> { Ok(0) },
        )
        .unwrap();
    let inst = linker.instantiate(&mut store, &artifact).unwrap();
    let oob = inst.get_typed_func::<i32, i32>(&store, "oob").unwrap();
    let e = oob.call(&mut store, -4).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::MemoryOutOfBounds));
}

#[test]
fn a_sent_sigsegv_with_the_default_action_still_terminates() {
    if std::env::var_os(CHILD_ENV).is_none() {
        use std::os::unix::process::ExitStatusExt;
        let status = run_child("a_sent_sigsegv_with_the_default_action_still_terminates");
        assert_eq!(
            status.signal(),
            Some(libc::SIGSEGV),
            "a SIGSEGV sent with raise() was swallowed: {status}"
        );
        return;
    }
    // --- child process: the default action, as a program without handlers has it ---
    set_action(libc::SIGSEGV, libc::SIG_DFL);
    trap_once();
    // SAFETY: raising a signal; the default action terminates the process here.
    unsafe { libc::raise(libc::SIGSEGV) };
    // Reaching this line means the signal was lost: the test then "passes" in the child,
    // and the parent sees a normal exit instead of death by SIGSEGV.
}

#[test]
fn a_sent_sigsegv_that_the_host_ignores_stays_ignored() {
    if std::env::var_os(CHILD_ENV).is_none() {
        let status = run_child("a_sent_sigsegv_that_the_host_ignores_stays_ignored");
        assert_eq!(status.code(), Some(0), "the child process failed: {status}");
        return;
    }
    set_action(libc::SIGSEGV, libc::SIG_IGN);
    trap_once();
    // SAFETY: raising a signal the host ignores.
    unsafe { libc::raise(libc::SIGSEGV) };
    // Ignored, and the loader's handler is still in place: traps still work.
    trap_once();
}

#[test]
fn the_loader_gives_calling_threads_an_alternate_signal_stack() {
    let artifact = compile(TRAPPING_MODULE);
    std::thread::spawn(move || {
        // A fresh thread has none.
        // SAFETY: querying only.
        let mut ss: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid out pointer.
        unsafe { libc::sigaltstack(std::ptr::null(), &mut ss) };
        let had_one = ss.ss_flags & libc::SS_DISABLE == 0;
        let mut store = Store::new(());
        let mut linker = Linker::new();
        linker
            .func_wrap(
                "host",
                "touch",
                |_c: Caller<'_, ()>| -> Result<i32, Error> { Ok(0) },
            )
            .unwrap();
        let inst = linker.instantiate(&mut store, &artifact).unwrap();
        let div = inst.get_typed_func::<i32, i32>(&store, "div").unwrap();
        assert_eq!(
            div.call(&mut store, 0).unwrap_err().trap_code(),
            Some(TrapCode::IntegerDivisionByZero)
        );
        // SAFETY: valid out pointer.
        unsafe { libc::sigaltstack(std::ptr::null(), &mut ss) };
        assert_eq!(ss.ss_flags & libc::SS_DISABLE, 0, "no alternate stack");
        if !had_one {
            assert!(
                ss.ss_size >= 16 << 10,
                "alternate stack of {} bytes",
                ss.ss_size
            );
        }
    })
    .join()
    .expect("the thread ran");
}

#[test]
fn many_threads_trapping_at_once_all_get_the_right_results() {
    const THREADS: usize = 8;
    const ROUNDS: i32 = 200;
    let artifact = compile(
        r#"(module
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $sq)
  (type $t (func (param i32) (result i32)))
  (func $sq (param i32) (result i32) local.get 0 local.get 0 i32.mul)
  (func (export "work") (param i32) (result i32)
    ;; Stores, then traps on a selector: 0 none, 1 OOB (SIGSEGV), 2 unreachable (SIGILL),
    ;; 3 divide by zero (SIGFPE), 4 null table entry, 5 overflow (i32.div_s MIN/-1).
    (i32.store (i32.const 0) (local.get 0))
    (block $b
      (block $b5 (block $b4 (block $b3 (block $b2 (block $b1
        (br_table $b $b1 $b2 $b3 $b4 $b5 $b (i32.rem_u (local.get 0) (i32.const 6))))
        (drop (i32.load (i32.const 65535))) (br $b))
        unreachable)
        (drop (i32.div_u (i32.const 1) (i32.const 0))) (br $b))
        (drop (call_indirect (type $t) (i32.const 3) (i32.const 1))) (br $b))
        (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))))
    (call_indirect (type $t) (local.get 0) (i32.const 0))))"#,
    );
    let expected = |x: i32| match x % 6 {
        0 => Ok(x.wrapping_mul(x)),
        1 => Err(TrapCode::MemoryOutOfBounds),
        2 => Err(TrapCode::UnreachableCodeReached),
        3 => Err(TrapCode::IntegerDivisionByZero),
        4 => Err(TrapCode::IndirectCallToNull),
        _ => Err(TrapCode::IntegerOverflow),
    };
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let artifact = &artifact;
            s.spawn(move || {
                let mut store = Store::new(());
                let inst = Linker::new().instantiate(&mut store, artifact).unwrap();
                let work = inst.get_typed_func::<i32, i32>(&store, "work").unwrap();
                for r in 0..ROUNDS {
                    // Every thread goes through every trap kind, out of phase with the others.
                    let x = r * 7 + i32::try_from(t).unwrap();
                    let got = work.call(&mut store, x).map_err(|e| {
                        e.trap_code()
                            .unwrap_or_else(|| panic!("thread {t}: not a trap: {e}"))
                    });
                    assert_eq!(got, expected(x), "thread {t}, round {r}, x = {x}");
                }
            });
        }
    });
}

/// Counts the SIGURGs the host's own handler sees.
static HOST_URGS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn host_urg_handler(_sig: libc::c_int) {
    HOST_URGS.fetch_add(1, Ordering::SeqCst);
}

/// A module whose `sum` loops `n` times with no call (frameless: only a signal stops it) and
/// whose `tid_then_sum` first tells the host which thread runs it.
const SUM_MODULE: &str = r#"(module
  (import "host" "started" (func $started))
  (func $sum (export "sum") (param i32) (result i32) (local i32 i32)
    (loop $l
      local.get 2 local.get 1 i32.xor i32.const 1 i32.add local.set 2
      local.get 1 i32.const 1 i32.add local.tee 1
      local.get 0 i32.lt_u br_if $l)
    local.get 2)
  (func (export "tid_then_sum") (param i32) (result i32)
    call $started
    local.get 0 call $sum))"#;

/// A store with an instance of [`SUM_MODULE`] (whose `started` import does nothing), and
/// its `sum`.
fn sum_instance(artifact: &Artifact) -> (Store<()>, wasmc_loader::TypedFunc<i32, i32>) {
    let mut linker = Linker::new();
    linker
        .func_wrap("host", "started", |_c: Caller<'_, ()>| Ok(()))
        .unwrap();
    let mut store = Store::new(());
    let inst = linker.instantiate(&mut store, artifact).unwrap();
    let run = inst.get_typed_func::<i32, i32>(&store, "sum").unwrap();
    (store, run)
}

/// Interrupts `store` from another thread 5 ms from now.
fn interrupt_in_5ms(store: &Store<()>) -> std::thread::JoinHandle<()> {
    let handle = store.interrupt_handle();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(5));
        handle.interrupt();
    })
}

/// Runs `sum(-1)` (2^32 - 1 turns, seconds of work, no call in the loop) in a new store,
/// interrupted after 5 ms; returns the call's error.
fn sum_interrupted_after_5ms(artifact: &Artifact) -> Error {
    let (mut store, run) = sum_instance(artifact);
    let t = interrupt_in_5ms(&store);
    let e = run
        .call(&mut store, -1)
        .expect_err("the loop is stopped long before it ends");
    t.join().unwrap();
    e
}

/// What `sum(n)` returns, computed in Rust.
fn sum(n: u32) -> i32 {
    let mut acc = 0i32;
    for i in 0..n.cast_signed() {
        acc = (acc ^ i).wrapping_add(1);
    }
    acc
}

/// Runs `tid_then_sum(n)` while another thread sends SIGURG to the running thread every
/// 50 µs; returns the result and how many signals were sent.
fn sum_under_stray_signals(n: u32) -> (i32, usize) {
    let artifact = compile(SUM_MODULE);
    let tid = std::sync::Arc::new(AtomicUsize::new(0));
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let mut linker = Linker::new();
    let tid2 = tid.clone();
    linker
        .func_wrap("host", "started", move |_c: Caller<'_, ()>| {
            // SAFETY: gettid has no preconditions.
            let me = unsafe { libc::syscall(libc::SYS_gettid) };
            tid2.store(usize::try_from(me).unwrap(), Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(());
    let inst = linker.instantiate(&mut store, &artifact).unwrap();
    let run = inst
        .get_typed_func::<i32, i32>(&store, "tid_then_sum")
        .unwrap();
    let (tid3, done2) = (tid.clone(), done.clone());
    let sender = std::thread::spawn(move || {
        let mut sent = 0;
        while !done2.load(Ordering::SeqCst) {
            let t = tid3.load(Ordering::SeqCst);
            if t != 0 {
                // SAFETY: signalling a live thread of this process (it waits for `done`).
                unsafe {
                    libc::syscall(
                        libc::SYS_tgkill,
                        libc::getpid(),
                        libc::pid_t::try_from(t).unwrap(),
                        libc::SIGURG,
                    )
                };
                sent += 1;
            }
            // A storm with no pause would mostly measure signal delivery.
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
        sent
    });
    let got = run.call(&mut store, n.cast_signed());
    done.store(true, Ordering::SeqCst);
    let sent = sender.join().unwrap();
    (
        got.unwrap_or_else(|e| panic!("a stray SIGURG stopped the guest: {e}")),
        sent,
    )
}

/// SIGURG that nobody asked for (another library, a stray `kill`) reaches a thread running
/// Wasm whose store is not stopped: the handler finds nothing to do and the guest goes on.
#[test]
fn stray_sigurgs_do_not_disturb_running_wasm() {
    let n = 30_000_000;
    let (got, sent) = sum_under_stray_signals(n);
    assert_eq!(got, sum(n));
    assert!(sent > 0, "no signal was sent while the guest ran");
}

/// A SIGURG handler the host installed before the loader still gets every SIGURG the loader
/// does not act on, and interruption by signal works alongside it.
#[test]
fn sigurgs_not_for_the_loader_reach_the_hosts_earlier_handler() {
    if std::env::var_os(CHILD_ENV).is_none() {
        let status = run_child("sigurgs_not_for_the_loader_reach_the_hosts_earlier_handler");
        assert_eq!(
            status.code(),
            Some(0),
            "the child process failed (see its output above)"
        );
        return;
    }
    // --- child process ---
    set_action(
        libc::SIGURG,
        host_urg_handler as *const () as libc::sighandler_t,
    );
    trap_once();
    // SAFETY: raising a signal with a handler installed.
    unsafe { libc::raise(libc::SIGURG) };
    assert_eq!(HOST_URGS.load(Ordering::SeqCst), 1, "sent outside Wasm");
    // Stray ones while Wasm runs reach the host too, and the guest is not disturbed.
    let (got, sent) = sum_under_stray_signals(30_000_000);
    assert_eq!(got, sum(30_000_000));
    // Signals sent while one is pending merge into it, so the host sees at most that many.
    let seen = HOST_URGS.load(Ordering::SeqCst) - 1;
    assert!(
        seen > 0 && seen <= sent,
        "{seen} of {sent} reached the host"
    );
    // An interrupt still stops a loop that has no check.
    let e = sum_interrupted_after_5ms(&compile(SUM_MODULE));
    assert_eq!(e.trap_code(), Some(TrapCode::Interrupt), "{e}");
}

/// A host that blocks every signal in its worker threads (to take them with `sigwait`
/// elsewhere) can still stop their loops: the loader unblocks its interruption signal in a
/// thread the first time it runs Wasm.
#[test]
fn loops_in_threads_that_block_signals_are_still_stopped() {
    let artifact = compile(SUM_MODULE);
    std::thread::spawn(move || {
        // SAFETY: a filled sigset_t; blocking signals in this thread only.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            assert_eq!(
                libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut()),
                0
            );
        }
        let e = sum_interrupted_after_5ms(&artifact);
        assert_eq!(e.trap_code(), Some(TrapCode::Interrupt), "{e}");
    })
    .join()
    .expect("the worker thread was stopped");
}

/// A process that forks after running Wasm (a pre-forking server warming up) can still stop
/// loops in the child: the child forgets the parent thread's id and starts its own timer.
#[test]
fn a_forked_child_stops_its_loops_too() {
    if std::env::var_os(CHILD_ENV).is_none() {
        let status = run_child("a_forked_child_stops_its_loops_too");
        assert_eq!(status.code(), Some(0), "the child failed (see its output)");
        return;
    }
    // --- child process ---
    let artifact = compile(SUM_MODULE);
    let spin_until_stopped = |artifact: &Artifact| -> Result<(), String> {
        let (mut store, run) = sum_instance(artifact);
        // A deadline (the timer thread) and an interrupt from another thread.
        store
            .set_deadline(std::time::Duration::from_millis(5))
            .unwrap();
        match run.call(&mut store, -1) {
            Err(e) if e.trap_code() == Some(TrapCode::Interrupt) => {}
            other => return Err(format!("deadline: {other:?}")),
        }
        store.clear_deadline();
        let t = interrupt_in_5ms(&store);
        let got = run.call(&mut store, -1);
        t.join().unwrap();
        match got {
            Err(e) if e.trap_code() == Some(TrapCode::Interrupt) => Ok(()),
            other => Err(format!("interrupt: {other:?}")),
        }
    };
    // The parent runs Wasm and is stopped by signal first, so its thread id is cached.
    spin_until_stopped(&artifact).unwrap();
    // SAFETY: fork in a test process; the child only runs this function and exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = match spin_until_stopped(&artifact) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("forked child: {e}");
                1
            }
        };
        // SAFETY: leaving the forked child without running the test harness's exit path.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "forked child status {status:#x}"
    );
}
