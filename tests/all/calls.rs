//! Calls from the host into Wasm: every value type as parameter and result, several results,
//! untyped (`Func::call` with `Val`s) and typed (`TypedFunc`) calls, and calls between
//! instances.

use wasmc_loader::Val;

use crate::instantiate;

const IDENTITIES: &str = r#"(module
  (func (export "i32") (param i32) (result i32) local.get 0)
  (func (export "i64") (param i64) (result i64) local.get 0)
  (func (export "f32") (param f32) (result f32) local.get 0)
  (func (export "f64") (param f64) (result f64) local.get 0)
  (func (export "funcref") (param funcref) (result funcref) local.get 0)
  (func (export "externref") (param externref) (result externref) local.get 0)
  (func (export "is-null-extern") (param externref) (result i32) local.get 0 ref.is_null)
  (func (export "mixed") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    local.get 3 local.get 2 local.get 1 local.get 0)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "nothing"))
  (func (export "f64-math") (param f64 f64) (result f64)
    local.get 0 local.get 1 f64.mul f64.sqrt)
)"#;

fn call(
    store: &mut wasmc_loader::Store<()>,
    instance: &wasmc_loader::Instance,
    name: &str,
    args: &[Val],
) -> Vec<Val> {
    let f = instance
        .get_func(&*store, name)
        .unwrap_or_else(|| panic!("no export {name}"));
    let mut results = vec![Val::I32(0); f.ty(store).results.len()];
    f.call(store, args, &mut results)
        .unwrap_or_else(|e| panic!("calling {name}: {e}"));
    results
}

#[test]
fn every_scalar_type_round_trips_untyped() {
    let (mut store, instance) = instantiate(IDENTITIES);
    for v in [i32::MIN, -1, 0, 7, i32::MAX] {
        assert!(
            matches!(call(&mut store, &instance, "i32", &[Val::I32(v)])[..], [Val::I32(r)] if r == v)
        );
    }
    for v in [i64::MIN, -1, 0, 1 << 40, i64::MAX] {
        assert!(
            matches!(call(&mut store, &instance, "i64", &[Val::I64(v)])[..], [Val::I64(r)] if r == v)
        );
    }
    // Bit patterns, including a NaN with a payload, must survive unchanged.
    for bits in [
        0u32,
        0x8000_0000,
        1.5f32.to_bits(),
        0x7fa0_0001,
        0xff80_0000,
    ] {
        assert!(
            matches!(call(&mut store, &instance, "f32", &[Val::F32(bits)])[..], [Val::F32(r)] if r == bits)
        );
    }
    for bits in [0u64, 1 << 63, (-2.25f64).to_bits(), 0x7ff4_0000_0000_0001] {
        assert!(
            matches!(call(&mut store, &instance, "f64", &[Val::F64(bits)])[..], [Val::F64(r)] if r == bits)
        );
    }
}

#[test]
fn references_round_trip() {
    let (mut store, instance) = instantiate(IDENTITIES);
    assert!(matches!(
        call(&mut store, &instance, "funcref", &[Val::FuncRef(None)])[..],
        [Val::FuncRef(None)]
    ));
    let add = instance.get_func(&store, "add").expect("add");
    let back = call(&mut store, &instance, "funcref", &[Val::FuncRef(Some(add))]);
    let [Val::FuncRef(Some(f))] = &back[..] else {
        panic!("expected a funcref, got {back:?}")
    };
    // The funcref that came back is callable and is the same function.
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(2), Val::I32(3)], &mut out)
        .expect("calling the returned funcref");
    assert!(matches!(out, [Val::I32(5)]));

    assert!(matches!(
        call(&mut store, &instance, "externref", &[Val::ExternRef(None)])[..],
        [Val::ExternRef(None)]
    ));
    assert!(matches!(
        call(
            &mut store,
            &instance,
            "is-null-extern",
            &[Val::ExternRef(None)]
        )[..],
        [Val::I32(1)]
    ));
}

#[test]
fn several_params_and_results() {
    let (mut store, instance) = instantiate(IDENTITIES);
    let r = call(
        &mut store,
        &instance,
        "mixed",
        &[
            Val::I32(1),
            Val::I64(-2),
            Val::F32(3.5f32.to_bits()),
            Val::F64(4.25f64.to_bits()),
        ],
    );
    assert!(
        matches!(r[..], [Val::F64(a), Val::F32(b), Val::I64(-2), Val::I32(1)]
            if a == 4.25f64.to_bits() && b == 3.5f32.to_bits()),
        "{r:?}"
    );
    assert!(call(&mut store, &instance, "nothing", &[]).is_empty());
}

#[test]
fn typed_calls() {
    let (mut store, instance) = instantiate(IDENTITIES);
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&store, "add")
        .expect("typed add");
    assert_eq!(add.call(&mut store, (40, 2)).expect("add"), 42);
    assert_eq!(add.call(&mut store, (i32::MAX, 1)).expect("add"), i32::MIN);

    let id64 = instance
        .get_typed_func::<i64, i64>(&store, "i64")
        .expect("typed i64");
    assert_eq!(id64.call(&mut store, -5).expect("i64"), -5);

    let math = instance
        .get_typed_func::<(f64, f64), f64>(&store, "f64-math")
        .expect("typed f64-math");
    assert_eq!(math.call(&mut store, (2.0, 8.0)).expect("f64-math"), 4.0);

    let mixed = instance
        .get_typed_func::<(i32, i64, f32, f64), (f64, f32, i64, i32)>(&store, "mixed")
        .expect("typed mixed");
    assert_eq!(
        mixed.call(&mut store, (1, 2, 3.0, 4.0)).expect("mixed"),
        (4.0, 3.0, 2, 1)
    );

    let nothing = instance
        .get_typed_func::<(), ()>(&store, "nothing")
        .expect("typed nothing");
    nothing.call(&mut store, ()).expect("nothing");
}

#[test]
fn typed_func_with_the_wrong_type_is_refused() {
    let (store, instance) = instantiate(IDENTITIES);
    assert!(instance.get_typed_func::<i32, i64>(&store, "i32").is_err());
    assert!(
        instance
            .get_typed_func::<(i32, i32), i32>(&store, "i64")
            .is_err()
    );
}

#[test]
fn untyped_call_with_wrong_arguments_is_an_error_not_a_crash() {
    let (mut store, instance) = instantiate(IDENTITIES);
    let f = instance.get_func(&store, "add").expect("add");
    let mut out = [Val::I32(0)];
    let err = f
        .call(&mut store, &[Val::I32(1)], &mut out)
        .expect_err("one argument is missing");
    assert!(err.trap_code().is_none(), "{err}");
    let err = f
        .call(&mut store, &[Val::I32(1), Val::I64(2)], &mut out)
        .expect_err("the second argument has the wrong type");
    assert!(err.trap_code().is_none(), "{err}");
}

#[test]
fn many_results_use_the_return_area() {
    let (mut store, instance) = instantiate(
        r#"(module (func (export "many") (result i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 i32 i32)
             i32.const 1 i64.const 2 f32.const 3 f64.const 4 i32.const 5 i64.const 6
             f32.const 7 f64.const 8 i32.const 9 i64.const 10 i32.const 11 i32.const 12))"#,
    );
    let r = call(&mut store, &instance, "many", &[]);
    let as_numbers: Vec<f64> = r
        .iter()
        .map(|v| match *v {
            Val::I32(x) => f64::from(x),
            Val::I64(x) => x as f64,
            Val::F32(b) => f64::from(f32::from_bits(b)),
            Val::F64(b) => f64::from_bits(b),
            ref other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        as_numbers,
        [
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0
        ]
    );
}

#[test]
fn wasm_calls_another_instance_through_an_import() {
    let mut store = wasmc_loader::Store::new(());
    let mut linker = wasmc_loader::Linker::new();
    let provider = crate::load(
        r#"(module (global $g (mut i32) (i32.const 10))
             (func (export "next") (result i32)
               global.get $g i32.const 1 i32.add global.set $g global.get $g))"#,
    );
    let provider = linker
        .instantiate(&mut store, &provider)
        .expect("provider instantiates");
    linker
        .instance(&mut store, "p", provider)
        .expect("register provider");
    let consumer = crate::load(
        r#"(module (import "p" "next" (func $next (result i32)))
             (func (export "twice") (result i32) call $next drop call $next))"#,
    );
    let consumer = linker
        .instantiate(&mut store, &consumer)
        .expect("consumer instantiates");
    let twice = consumer
        .get_typed_func::<(), i32>(&store, "twice")
        .expect("twice");
    assert_eq!(twice.call(&mut store, ()).expect("twice"), 12);
    assert_eq!(twice.call(&mut store, ()).expect("twice"), 14);
}

#[test]
fn funcref_from_another_store_is_an_error_not_a_crash() {
    let (mut store_a, instance_a) = instantiate(IDENTITIES);
    let (mut store_b, instance_b) = instantiate(IDENTITIES);
    let add_a = instance_a.get_func(&store_a, "add").expect("add");
    let id_b = instance_b.get_func(&store_b, "funcref").expect("funcref");
    let mut out = [Val::FuncRef(None)];
    let err = id_b
        .call(&mut store_b, &[Val::FuncRef(Some(add_a))], &mut out)
        .expect_err("a funcref of store A cannot enter store B");
    assert!(err.trap_code().is_none(), "{err}");
    // Both stores still work.
    assert!(matches!(
        call(&mut store_a, &instance_a, "i32", &[Val::I32(1)])[..],
        [Val::I32(1)]
    ));
    assert!(matches!(
        call(&mut store_b, &instance_b, "i32", &[Val::I32(2)])[..],
        [Val::I32(2)]
    ));
}
