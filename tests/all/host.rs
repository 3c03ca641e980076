//! Host functions in the middle of Wasm calls: host -> wasm -> host -> wasm nesting, traps deep
//! inside such a nest (each entry must land on its own landing pad and the outer ones must
//! keep working), and host errors travelling through Wasm unchanged.

use wasmc_abi::{FuncType, TrapCode, ValType};
use wasmc_loader::{Caller, Error, Extern, Instance, Linker, Store, Val};

/// `outer(n)` calls the host `callback(n)`, which calls `outer(n - 1)` again, down to
/// `callback(0)`, which calls `div(d)` with the store's data `d`. So
/// `outer(n) = 100 / d + n + 1`, with `n` nested host/wasm round trips, and `d = 0` traps at
/// the deepest level.
const NESTING: &str = r#"(module
  (import "host" "callback" (func $cb (param i32) (result i32)))
  (func (export "outer") (param i32) (result i32)
    local.get 0 call $cb i32.const 1 i32.add)
  (func (export "div") (param i32) (result i32)
    i32.const 100 local.get 0 i32.div_u))"#;

fn callback(mut caller: Caller<'_, i32>, args: &[Val], results: &mut [Val]) -> Result<(), Error> {
    let [Val::I32(x)] = *args else {
        return Err(Error::host("callback called with the wrong arguments"));
    };
    let (name, arg) = if x == 0 {
        ("div", *caller.data())
    } else {
        ("outer", x - 1)
    };
    let func = caller
        .get_export(name)
        .and_then(Extern::into_func)
        .ok_or_else(|| Error::host(format!("no export {name}")))?;
    func.call(caller.store(), &[Val::I32(arg)], results)
}

fn nesting_instance(divisor: i32) -> (Store<i32>, Instance) {
    let artifact = crate::load(NESTING);
    let mut store = Store::new(divisor);
    let mut linker = Linker::new();
    linker
        .func_new(
            "host",
            "callback",
            FuncType::new([ValType::I32], [ValType::I32]),
            callback,
        )
        .expect("defining the callback");
    let instance = linker
        .instantiate(&mut store, &artifact)
        .expect("instantiating");
    (store, instance)
}

#[test]
fn nested_host_and_wasm_calls_return_values() {
    let (mut store, instance) = nesting_instance(4);
    let outer = instance
        .get_typed_func::<i32, i32>(&store, "outer")
        .expect("outer");
    assert_eq!(outer.call(&mut store, 0).expect("depth 0"), 26);
    assert_eq!(outer.call(&mut store, 20).expect("depth 20"), 46);
    assert_eq!(outer.call(&mut store, 200).expect("depth 200"), 226);
}

#[test]
fn trap_deep_in_nested_calls_unwinds_to_the_outermost_caller() {
    let (mut store, instance) = nesting_instance(0);
    let outer = instance
        .get_typed_func::<i32, i32>(&store, "outer")
        .expect("outer");
    for depth in [0, 1, 5, 50] {
        let err = outer
            .call(&mut store, depth)
            .expect_err("division by zero at the deepest level");
        assert_eq!(
            err.trap_code(),
            Some(TrapCode::IntegerDivisionByZero),
            "depth {depth}: {err}"
        );
    }
    // The same store and instance work again once the divisor is fixed, at every depth.
    *store.data_mut() = 5;
    assert_eq!(outer.call(&mut store, 3).expect("after traps"), 24);
    assert_eq!(outer.call(&mut store, 50).expect("after traps"), 71);
    // And a plain trap directly from the host still lands on the right pad.
    let div = instance
        .get_typed_func::<i32, i32>(&store, "div")
        .expect("div");
    let err = div.call(&mut store, 0).expect_err("divide by zero");
    assert_eq!(err.trap_code(), Some(TrapCode::IntegerDivisionByZero));
    assert_eq!(div.call(&mut store, 50).expect("div"), 2);
}

#[derive(Debug)]
struct Refused(u32);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused {}", self.0)
    }
}

impl std::error::Error for Refused {}

#[test]
fn host_error_reaches_the_caller_unchanged() {
    let artifact = crate::load(
        r#"(module
             (import "host" "check" (func $check (param i32)))
             (func (export "run") (param i32) (result i32)
               local.get 0 call $check local.get 0 i32.const 2 i32.mul))"#,
    );
    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker
        .func_new(
            "host",
            "check",
            FuncType::new([ValType::I32], []),
            |_caller, args, _results| match args {
                [Val::I32(x)] if *x < 0 => Err(Error::host(Refused(x.unsigned_abs()))),
                _ => Ok(()),
            },
        )
        .expect("defining check");
    let instance = linker
        .instantiate(&mut store, &artifact)
        .expect("instantiating");
    let run = instance
        .get_typed_func::<i32, i32>(&store, "run")
        .expect("run");
    assert_eq!(run.call(&mut store, 21).expect("run"), 42);
    let err = run.call(&mut store, -7).expect_err("the host refuses");
    assert!(err.trap_code().is_none(), "{err}");
    let refused = err.downcast_ref::<Refused>().expect("our error comes back");
    assert_eq!(refused.0, 7);
    assert_eq!(run.call(&mut store, 5).expect("run after a host error"), 10);
}

#[test]
fn endless_host_and_wasm_recursion_exhausts_the_stack_cleanly() {
    // `callback` always calls `outer` again: only the Wasm stack limit can stop this, and it
    // must do so with a trap before the native stack runs out.
    let artifact = crate::load(NESTING);
    let mut store = Store::new(0);
    let mut linker = Linker::new();
    linker
        .func_new(
            "host",
            "callback",
            FuncType::new([ValType::I32], [ValType::I32]),
            |mut caller: Caller<'_, i32>, args, results| {
                let func = caller
                    .get_export("outer")
                    .and_then(Extern::into_func)
                    .ok_or_else(|| Error::host("no outer"))?;
                func.call(caller.store(), args, results)
            },
        )
        .expect("defining the callback");
    let instance = linker
        .instantiate(&mut store, &artifact)
        .expect("instantiating");
    let outer = instance
        .get_typed_func::<i32, i32>(&store, "outer")
        .expect("outer");
    // Run on a thread with a known, generous native stack.
    let code = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn_scoped(s, || {
                let err = outer.call(&mut store, 1).expect_err("endless recursion");
                let code = err.trap_code();
                // The store is usable afterwards.
                let div = instance
                    .get_typed_func::<i32, i32>(&store, "div")
                    .expect("div");
                assert_eq!(div.call(&mut store, 4).expect("div after overflow"), 25);
                code
            })
            .expect("spawning")
            .join()
            .expect("no panic")
    });
    assert_eq!(code, Some(TrapCode::StackOverflow));
}

#[test]
fn host_function_with_many_params_and_results() {
    let artifact = crate::load(
        r#"(module
             (import "host" "shuffle" (func $shuffle
               (param i32 i64 f32 f64 i32 i64 f32 f64 i32 i64)
               (result i64 i32 f64 f32 i64 i32 f64)))
             (func (export "run") (result i64 i32 f64 f32 i64 i32 f64)
               i32.const 1 i64.const 2 f32.const 3 f64.const 4 i32.const 5
               i64.const 6 f32.const 7 f64.const 8 i32.const 9 i64.const 10
               call $shuffle))"#,
    );
    let mut store = Store::new(());
    let mut linker = Linker::new();
    use ValType::{F32, F64, I32, I64};
    linker
        .func_new(
            "host",
            "shuffle",
            FuncType::new(
                [I32, I64, F32, F64, I32, I64, F32, F64, I32, I64],
                [I64, I32, F64, F32, I64, I32, F64],
            ),
            |_caller, args, results| {
                // Results: p9, p8, p7, p6, p5, p4, p3 (each of the matching type).
                for (r, a) in results.iter_mut().zip(args.iter().rev()) {
                    *r = *a;
                }
                Ok(())
            },
        )
        .expect("defining shuffle");
    let instance = linker
        .instantiate(&mut store, &artifact)
        .expect("instantiating");
    let run = instance
        .get_typed_func::<(), (i64, i32, f64, f32, i64, i32, f64)>(&store, "run")
        .expect("run");
    assert_eq!(
        run.call(&mut store, ()).expect("run"),
        (10, 9, 8.0, 7.0, 6, 5, 4.0)
    );
}

#[test]
fn host_panic_propagates_and_the_store_survives() {
    let artifact = crate::load(
        r#"(module
             (import "host" "boom" (func $boom (param i32)))
             (func (export "run") (param i32) (result i32)
               local.get 0 call $boom local.get 0))"#,
    );
    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker
        .func_new(
            "host",
            "boom",
            FuncType::new([ValType::I32], []),
            |_caller, args, _results| {
                if args == [Val::I32(13)] {
                    panic!("host function panicked on purpose");
                }
                Ok(())
            },
        )
        .expect("defining boom");
    let instance = linker
        .instantiate(&mut store, &artifact)
        .expect("instantiating");
    let run = instance
        .get_typed_func::<i32, i32>(&store, "run")
        .expect("run");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = run.call(&mut store, 13);
    }));
    let payload = panicked.expect_err("the panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<&str>().copied(),
        Some("host function panicked on purpose")
    );
    assert_eq!(run.call(&mut store, 3).expect("run after a panic"), 3);
}
