//! One test per trap kind: the call fails with the right `TrapCode` and text, and the same
//! instance still works afterwards (the trap unwound cleanly and left the store usable).

use wasmc_abi::TrapCode;
use wasmc_loader::{Instance, Store};

use crate::instantiate;

/// Every test module exports `ok` (returns 42) next to its trapping `trap` function.
fn module(params: &str, body: &str, extra: &str) -> String {
    format!(
        r#"(module
             (func (export "ok") (result i32) i32.const 42)
             (func (export "trap") {params} {body})
             {extra})"#
    )
}

/// Calls `trap` with i32 arguments, expects `code`, then checks that `ok` still works, twice
/// (the second round shows the landing pad and stack limit were restored).
fn assert_traps(wat: &str, args: &[i32], code: TrapCode) {
    let (mut store, instance) = instantiate(wat);
    for _ in 0..2 {
        expect_trap(&mut store, &instance, args, code);
        let ok = instance
            .get_typed_func::<(), i32>(&store, "ok")
            .expect("ok export");
        assert_eq!(ok.call(&mut store, ()).expect("ok after trap"), 42);
    }
}

fn expect_trap(store: &mut Store<()>, instance: &Instance, args: &[i32], code: TrapCode) {
    let f = instance.get_func(&*store, "trap").expect("trap export");
    let args: Vec<_> = args.iter().map(|&a| wasmc_loader::Val::I32(a)).collect();
    let n_results = f.ty(store).results.len();
    let mut results = vec![wasmc_loader::Val::I32(0); n_results];
    let err = f
        .call(store, &args, &mut results)
        .expect_err("the call must trap");
    assert_eq!(err.trap_code(), Some(code), "{err}");
    assert!(err.to_string().contains(code.message()), "{err}");
}

#[test]
fn unreachable_traps() {
    assert_traps(
        &module("", "unreachable", ""),
        &[],
        TrapCode::UnreachableCodeReached,
    );
}

#[test]
fn out_of_bounds_load_traps() {
    assert_traps(
        &module(
            "(param i32) (result i32)",
            "local.get 0 i32.load",
            "(memory 1)",
        ),
        &[65534],
        TrapCode::MemoryOutOfBounds,
    );
}

#[test]
fn out_of_bounds_load_with_big_offset_traps() {
    // An offset beyond the guard region takes the explicit bounds check, not the guard page.
    assert_traps(
        &module(
            "(param i32) (result i64)",
            "local.get 0 i64.load offset=0xfffffff0",
            "(memory 1)",
        ),
        &[0],
        TrapCode::MemoryOutOfBounds,
    );
}

#[test]
fn out_of_bounds_store_traps() {
    assert_traps(
        &module(
            "(param i32)",
            "local.get 0 i32.const 1 i32.store8",
            "(memory 1)",
        ),
        &[-1],
        TrapCode::MemoryOutOfBounds,
    );
}

#[test]
fn division_by_zero_traps() {
    assert_traps(
        &module(
            "(param i32) (result i32)",
            "i32.const 1 local.get 0 i32.div_u",
            "",
        ),
        &[0],
        TrapCode::IntegerDivisionByZero,
    );
}

#[test]
fn signed_division_overflow_traps() {
    assert_traps(
        &module(
            "(param i32) (result i32)",
            "i32.const 0x80000000 local.get 0 i32.div_s",
            "",
        ),
        &[-1],
        TrapCode::IntegerOverflow,
    );
}

#[test]
fn float_to_int_overflow_traps() {
    assert_traps(
        &module("(result i32)", "f64.const 1e10 i32.trunc_f64_s", ""),
        &[],
        TrapCode::IntegerOverflow,
    );
}

#[test]
fn invalid_conversion_traps() {
    assert_traps(
        &module("(result i64)", "f32.const nan i64.trunc_f32_u", ""),
        &[],
        TrapCode::BadConversionToInteger,
    );
}

const TABLE: &str = r#"
    (type $v (func))
    (type $i (func (result i32)))
    (table 3 funcref)
    (elem (i32.const 0) $void)
    (func $void)"#;

#[test]
fn indirect_call_to_null_traps() {
    assert_traps(
        &module("(param i32)", "local.get 0 call_indirect (type $v)", TABLE),
        &[1],
        TrapCode::IndirectCallToNull,
    );
}

#[test]
fn indirect_call_with_wrong_signature_traps() {
    assert_traps(
        &module(
            "(param i32) (result i32)",
            "local.get 0 call_indirect (type $i)",
            TABLE,
        ),
        &[0],
        TrapCode::BadSignature,
    );
}

#[test]
fn indirect_call_past_the_table_end_traps() {
    assert_traps(
        &module("(param i32)", "local.get 0 call_indirect (type $v)", TABLE),
        &[3],
        TrapCode::UndefinedElement,
    );
}

/// A table whose maximum is its minimum never grows: its bound is compiled in, and an index
/// past it loads from address 0 instead of branching, which must still trap as
/// `UndefinedElement` (and `TableOutOfBounds` for `table.get`), for every such index.
#[test]
fn indirect_calls_past_the_end_of_a_fixed_size_table_trap() {
    let fixed = TABLE.replace("(table 3 funcref)", "(table 3 3 funcref)");
    let call = module("(param i32)", "local.get 0 call_indirect (type $v)", &fixed);
    for index in [3, 4, 0x7fff_ffff, -1] {
        assert_traps(&call, &[index], TrapCode::UndefinedElement);
    }
    assert_traps(&call, &[1], TrapCode::IndirectCallToNull);
    let (mut store, instance) = instantiate(&call);
    let f = instance.get_typed_func::<i32, ()>(&store, "trap").unwrap();
    f.call(&mut store, 0)
        .expect("element 0 is a valid function");
    let get = module(
        "(param i32) (result funcref)",
        "local.get 0 table.get 0",
        &fixed,
    );
    for index in [3, -1] {
        assert_traps(&get, &[index], TrapCode::TableOutOfBounds);
    }
    let set = module(
        "(param i32)",
        "local.get 0 ref.null func table.set 0",
        &fixed,
    );
    for index in [3, -1] {
        assert_traps(&set, &[index], TrapCode::TableOutOfBounds);
    }
    // An empty table that cannot grow has no valid index at all.
    let empty = module(
        "(param i32)",
        "local.get 0 call_indirect (type $v)",
        "(type $v (func)) (table 0 0 funcref)",
    );
    for index in [0, 1, -1] {
        assert_traps(&empty, &[index], TrapCode::UndefinedElement);
    }
}

#[test]
fn table_access_out_of_bounds_traps() {
    assert_traps(
        &module(
            "(param i32) (result funcref)",
            "local.get 0 table.get 0",
            TABLE,
        ),
        &[7],
        TrapCode::TableOutOfBounds,
    );
}

#[test]
fn stack_exhaustion_traps() {
    assert_traps(
        &module(
            "(param i32) (result i32)",
            "local.get 0 i32.const 1 i32.add call $recurse",
            r#"(func $recurse (param i32) (result i32)
                 local.get 0 i32.const 1 i32.add call $recurse)"#,
        ),
        &[0],
        TrapCode::StackOverflow,
    );
}

#[test]
fn trap_in_the_start_function_fails_instantiation() {
    let artifact = crate::load(r#"(module (func $s unreachable) (start $s))"#);
    let mut store = Store::new(());
    let err = wasmc_loader::Linker::new()
        .instantiate(&mut store, &artifact)
        .expect_err("start traps");
    assert_eq!(
        err.trap_code(),
        Some(TrapCode::UnreachableCodeReached),
        "{err}"
    );
}

/// The names of a trap's backtrace frames, innermost first.
fn backtrace_of(wat: &str) -> (TrapCode, Vec<String>) {
    let (mut store, instance) = instantiate(wat);
    let run = instance.get_func(&store, "run").expect("run export");
    let err = run
        .call(&mut store, &[], &mut [])
        .expect_err("the call must trap");
    let trap = err.as_trap().expect("a trap");
    let names = trap
        .backtrace
        .iter()
        .map(|f| {
            f.func_name
                .clone()
                .unwrap_or_else(|| format!("#{}", f.func_index))
        })
        .collect();
    (trap.code, names)
}

#[test]
fn traps_carry_a_backtrace_of_wasm_functions() {
    // A fault in the innermost of three nested calls: every caller is listed.
    let (code, names) = backtrace_of(
        r#"(module
             (func $inner unreachable)
             (func $middle call $inner)
             (func $outer (export "run") call $middle))"#,
    );
    assert_eq!(code, TrapCode::UnreachableCodeReached);
    assert_eq!(names, ["inner", "middle", "outer"]);
}

#[test]
fn builtin_traps_carry_a_backtrace_too() {
    // memory.fill out of bounds fails in a builtin, which raises HostTrap from the wasm
    // function that called it: the frames are the same as for a hardware trap.
    let (code, names) = backtrace_of(
        r#"(module
             (memory 1)
             (func $fill (memory.fill (i32.const 65530) (i32.const 0) (i32.const 100)))
             (func $outer (export "run") call $fill))"#,
    );
    assert_eq!(code, TrapCode::MemoryOutOfBounds);
    assert_eq!(names, ["fill", "outer"]);
}

#[test]
fn deep_recursion_backtrace_is_bounded() {
    // Stack exhaustion: thousands of frames; the backtrace keeps the innermost 64.
    let (code, names) = backtrace_of(r#"(module (func $down (export "run") call $down))"#);
    assert_eq!(code, TrapCode::StackOverflow);
    assert_eq!(names.len(), 64);
    assert!(names.iter().all(|n| n == "down"), "{names:?}");
}
