//! End-to-end tests: WAT compiled by `wasmc-compiler`, loaded and run by the loader.
#![allow(unsafe_code, reason = "loading an artifact is unsafe")]

use wasmc_loader::{Artifact, Caller, Error, FuncType, Linker, Store, TrapCode, Val, ValType};

fn artifact(wat: &str) -> Artifact {
    let wasm = wat::parse_str(wat).expect("valid WAT");
    let bytes = wasmc_compiler::compile(&wasm).expect("compiles");
    // SAFETY: the bytes come straight from the wasmc compiler.
    unsafe { Artifact::from_bytes(&bytes) }.expect("loads")
}

#[test]
fn add_returns_the_sum() {
    let a = artifact(
        r#"(module (func (export "add") (param i32 i32) (result i32)
             local.get 0 local.get 1 i32.add))"#,
    );
    let mut store = Store::new(());
    let inst = Linker::new().instantiate(&mut store, &a).unwrap();
    let add = inst
        .get_typed_func::<(i32, i32), i32>(&store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (1, 2)).unwrap(), 3);
    let f = inst.get_func(&store, "add").unwrap();
    let mut r = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(-5), Val::I32(2)], &mut r)
        .unwrap();
    assert_eq!(r[0], Val::I32(-3));
}

fn instantiate(wat: &str) -> (Store<()>, wasmc_loader::Instance) {
    let a = artifact(wat);
    let mut store = Store::new(());
    let inst = Linker::new().instantiate(&mut store, &a).unwrap();
    (store, inst)
}

fn call(
    store: &mut Store<()>,
    inst: &wasmc_loader::Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, Error> {
    let f = inst
        .get_func(store, name)
        .unwrap_or_else(|| panic!("no export {name}"));
    let ty = f.ty(store);
    let mut results: Vec<Val> = ty.results.iter().map(|t| Val::default_for(*t)).collect();
    f.call(store, args, &mut results)?;
    Ok(results)
}

#[test]
fn every_trap_kind_is_reported_and_the_store_goes_on() {
    let (mut store, inst) = instantiate(
        r#"(module
          (memory 1)
          (table 2 funcref)
          (type $t (func (result i32)))
          (func $one (result i32) i32.const 1)
          (elem (i32.const 0) $one)
          (func (export "unreachable") unreachable)
          (func (export "div") (param i32) (result i32) i32.const 7 local.get 0 i32.div_s)
          (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
          (func (export "conv") (result i32) f32.const nan i32.trunc_f32_s)
          (func (export "load") (param i32) (result i32) local.get 0 i32.load)
          (func (export "store_far") (param i32) local.get 0 i32.const 1 i32.store offset=0x10000000)
          (func (export "indirect") (param i32) (result i32) local.get 0 call_indirect (type $t))
          (func (export "bad_sig") (param i32) i32.const 0 local.get 0 call_indirect (param i32))
          (func (export "ok") (result i32) i32.const 42))"#,
    );
    let cases: &[(&str, &[Val], TrapCode)] = &[
        ("unreachable", &[], TrapCode::UnreachableCodeReached),
        ("div", &[Val::I32(0)], TrapCode::IntegerDivisionByZero),
        ("overflow", &[], TrapCode::IntegerOverflow),
        ("conv", &[], TrapCode::BadConversionToInteger),
        ("load", &[Val::I32(65535)], TrapCode::MemoryOutOfBounds),
        ("load", &[Val::I32(-1)], TrapCode::MemoryOutOfBounds),
        ("store_far", &[Val::I32(0)], TrapCode::MemoryOutOfBounds),
        ("indirect", &[Val::I32(1)], TrapCode::IndirectCallToNull),
        ("indirect", &[Val::I32(2)], TrapCode::UndefinedElement),
        ("bad_sig", &[Val::I32(0)], TrapCode::BadSignature),
    ];
    for (name, args, code) in cases {
        let e = call(&mut store, &inst, name, args).unwrap_err();
        assert_eq!(e.trap_code(), Some(*code), "{name}: {e}");
        assert_eq!(
            call(&mut store, &inst, "ok", &[]).unwrap(),
            vec![Val::I32(42)]
        );
    }
    assert_eq!(
        call(&mut store, &inst, "indirect", &[Val::I32(0)]).unwrap(),
        vec![Val::I32(1)]
    );
    assert_eq!(
        call(&mut store, &inst, "div", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(3)]
    );
}

#[test]
fn trap_names_the_function() {
    let (mut store, inst) = instantiate(r#"(module (func $boom (export "boom") unreachable))"#);
    let e = call(&mut store, &inst, "boom", &[]).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("unreachable"), "{msg}");
    assert_eq!(e.as_trap().unwrap().func_index, Some(0));
}

#[test]
fn deep_recursion_is_a_stack_overflow_and_the_thread_survives() {
    let (mut store, inst) = instantiate(
        r#"(module
          (func $f (export "f") (param i32) (result i32)
            local.get 0 i32.const 1 i32.add call $f)
          (func (export "ok") (result i32) i32.const 7))"#,
    );
    for _ in 0..3 {
        let e = call(&mut store, &inst, "f", &[Val::I32(0)]).unwrap_err();
        assert_eq!(e.trap_code(), Some(TrapCode::StackOverflow), "{e}");
        assert_eq!(
            call(&mut store, &inst, "ok", &[]).unwrap(),
            vec![Val::I32(7)]
        );
    }
}

#[test]
fn host_functions_round_trip() {
    let a = artifact(
        r#"(module
          (import "env" "double" (func $double (param i32) (result i32)))
          (import "env" "fail" (func $fail))
          (func (export "quad") (param i32) (result i32)
            local.get 0 call $double call $double)
          (func (export "fail") call $fail))"#,
    );
    #[derive(Debug)]
    struct Custom;
    impl std::fmt::Display for Custom {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("custom failure")
        }
    }
    impl std::error::Error for Custom {}

    let mut store = Store::new(0u32);
    let mut linker = Linker::new();
    linker
        .func_new(
            "env",
            "double",
            FuncType::new([ValType::I32], [ValType::I32]),
            |mut caller: Caller<'_, u32>, args, results| {
                *caller.data_mut() += 1;
                results[0] = Val::I32(args[0].i32().unwrap() * 2);
                Ok(())
            },
        )
        .unwrap();
    linker
        .func_wrap("env", "fail", |_c: Caller<'_, u32>| -> Result<(), Error> {
            Err(Error::host(Custom))
        })
        .unwrap();
    let inst = linker.instantiate(&mut store, &a).unwrap();
    let quad = inst.get_typed_func::<i32, i32>(&store, "quad").unwrap();
    assert_eq!(quad.call(&mut store, 5).unwrap(), 20);
    assert_eq!(*store.data(), 2);
    let fail = inst.get_typed_func::<(), ()>(&store, "fail").unwrap();
    let e = fail.call(&mut store, ()).unwrap_err();
    assert!(e.downcast_ref::<Custom>().is_some(), "{e}");
    assert_eq!(quad.call(&mut store, 1).unwrap(), 4);
}

#[test]
fn host_panics_resume_after_the_wasm_frames() {
    let a = artifact(r#"(module (import "env" "p" (func $p)) (func (export "run") call $p))"#);
    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker
        .func_wrap("env", "p", |_c: Caller<'_, ()>| -> Result<(), Error> {
            panic!("boom")
        })
        .unwrap();
    let inst = linker.instantiate(&mut store, &a).unwrap();
    let run = inst.get_typed_func::<(), ()>(&store, "run").unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.call(&mut store, ())));
    assert!(r.is_err());
    // The store is still usable.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.call(&mut store, ())));
    assert!(r.is_err());
}

#[test]
fn missing_and_mismatched_imports_are_link_errors() {
    let a = artifact(r#"(module (import "env" "f" (func (param i32))))"#);
    let mut store = Store::new(());
    let mut linker = Linker::new();
    let e = linker.instantiate(&mut store, &a).unwrap_err();
    assert!(e.is_link(), "{e}");
    assert!(e.to_string().contains("env::f"), "{e}");
    assert!(e.to_string().contains("(param i32)"), "{e}");
    linker
        .func_wrap(
            "env",
            "f",
            |_c: Caller<'_, ()>, _x: i64| -> Result<(), Error> { Ok(()) },
        )
        .unwrap();
    let e = linker.instantiate(&mut store, &a).unwrap_err();
    assert!(e.is_link(), "{e}");
    assert!(e.to_string().contains("incompatible import type"), "{e}");
    assert!(e.to_string().contains("i64"), "{e}");
}

#[test]
fn memory_data_and_grow() {
    let (mut store, inst) = instantiate(
        r#"(module
          (memory (export "mem") 1 3)
          (data (i32.const 16) "hello")
          (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
          (func (export "size") (result i32) memory.size)
          (func (export "load8") (param i32) (result i32) local.get 0 i32.load8_u))"#,
    );
    let mem = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(&mem.data(&store)[16..21], b"hello");
    assert_eq!(
        call(&mut store, &inst, "grow", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(1)]
    );
    assert_eq!(
        call(&mut store, &inst, "size", &[]).unwrap(),
        vec![Val::I32(2)]
    );
    assert_eq!(
        call(&mut store, &inst, "grow", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(-1)]
    );
    mem.data_mut(&mut store)[70000] = 9;
    assert_eq!(
        call(&mut store, &inst, "load8", &[Val::I32(70000)]).unwrap(),
        vec![Val::I32(9)]
    );
    assert_eq!(mem.size(&store), 2);
}

#[test]
fn instances_link_to_each_other() {
    let a = artifact(
        r#"(module
          (memory (export "mem") 1)
          (global (export "g") (mut i32) (i32.const 5))
          (table (export "tab") 1 funcref)
          (func $seven (result i32) i32.const 7)
          (elem (i32.const 0) $seven)
          (func (export "get") (result i32) global.get 0))"#,
    );
    let b = artifact(
        r#"(module
          (import "a" "mem" (memory 1))
          (import "a" "g" (global $g (mut i32)))
          (import "a" "tab" (table 1 funcref))
          (import "a" "get" (func $get (result i32)))
          (func (export "bump") (result i32)
            global.get $g i32.const 1 i32.add global.set $g
            i32.const 0 i32.const 77 i32.store
            call $get)
          (func (export "via_table") (result i32) i32.const 0 call_indirect (result i32)))"#,
    );
    let mut store = Store::new(());
    let mut linker = Linker::new();
    let ia = linker.instantiate(&mut store, &a).unwrap();
    linker.instance(&mut store, "a", ia).unwrap();
    let ib = linker.instantiate(&mut store, &b).unwrap();
    assert_eq!(
        call(&mut store, &ib, "bump", &[]).unwrap(),
        vec![Val::I32(6)]
    );
    assert_eq!(ia.get_global(&store, "g").unwrap().get(&store), Val::I32(6));
    assert_eq!(ia.get_memory(&store, "mem").unwrap().data(&store)[0], 77);
    assert_eq!(
        call(&mut store, &ib, "via_table", &[]).unwrap(),
        vec![Val::I32(7)]
    );
}

#[test]
fn start_function_runs_and_its_trap_fails_instantiation() {
    let (mut store, inst) = instantiate(
        r#"(module
          (global $g (mut i32) (i32.const 0))
          (func $start i32.const 3 global.set $g)
          (start $start)
          (func (export "get") (result i32) global.get $g))"#,
    );
    assert_eq!(
        call(&mut store, &inst, "get", &[]).unwrap(),
        vec![Val::I32(3)]
    );
    let a = artifact(r#"(module (func $s unreachable) (start $s))"#);
    let e = Linker::new().instantiate(&mut store, &a).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::UnreachableCodeReached), "{e}");
}

#[test]
fn out_of_bounds_segments_trap_at_instantiation() {
    let a = artifact(r#"(module (memory 1) (data (i32.const 65535) "ab"))"#);
    let mut store = Store::new(());
    let e = Linker::new().instantiate(&mut store, &a).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::MemoryOutOfBounds), "{e}");
    let a = artifact(r#"(module (table 1 funcref) (func $f) (elem (i32.const 1) $f))"#);
    let e = Linker::new().instantiate(&mut store, &a).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::TableOutOfBounds), "{e}");
}

#[test]
fn bulk_memory_traps_without_partial_writes() {
    let (mut store, inst) = instantiate(
        r#"(module
          (memory (export "mem") 1)
          (data $d "xyz")
          (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
          (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)
          (func (export "init") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.init $d))"#,
    );
    let mem = inst.get_memory(&store, "mem").unwrap();
    call(
        &mut store,
        &inst,
        "fill",
        &[Val::I32(0), Val::I32(0xaa), Val::I32(4)],
    )
    .unwrap();
    assert_eq!(&mem.data(&store)[..5], &[0xaa, 0xaa, 0xaa, 0xaa, 0]);
    call(
        &mut store,
        &inst,
        "copy",
        &[Val::I32(1), Val::I32(0), Val::I32(4)],
    )
    .unwrap();
    assert_eq!(&mem.data(&store)[..6], &[0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0]);
    let e = call(
        &mut store,
        &inst,
        "fill",
        &[Val::I32(65530), Val::I32(1), Val::I32(10)],
    )
    .unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::MemoryOutOfBounds), "{e}");
    assert_eq!(mem.data(&store)[65530], 0);
    call(
        &mut store,
        &inst,
        "init",
        &[Val::I32(100), Val::I32(1), Val::I32(2)],
    )
    .unwrap();
    assert_eq!(&mem.data(&store)[100..102], b"yz");
    let e = call(
        &mut store,
        &inst,
        "init",
        &[Val::I32(100), Val::I32(2), Val::I32(2)],
    )
    .unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::MemoryOutOfBounds), "{e}");
}

#[test]
fn nested_host_wasm_calls_trap_on_their_own_landing_pad() {
    let a = artifact(
        r#"(module
          (import "env" "reenter" (func $reenter (param i32) (result i32)))
          (func (export "outer") (param i32) (result i32)
            local.get 0 call $reenter i32.const 1 i32.add)
          (func (export "inner") (param i32) (result i32)
            local.get 0 i32.eqz if unreachable end
            local.get 0 i32.const 10 i32.mul))"#,
    );
    let mut store = Store::new(None::<wasmc_loader::Func>);
    let mut linker = Linker::new();
    linker
        .func_wrap(
            "env",
            "reenter",
            |mut caller: Caller<'_, Option<wasmc_loader::Func>>, x: i32| -> Result<i32, Error> {
                let inner = caller.data().expect("set");
                let mut r = [Val::I32(0)];
                match inner.call(caller.store(), &[Val::I32(x)], &mut r) {
                    // The inner trap is caught by the inner call; the host carries on.
                    Err(e) if e.trap_code() == Some(TrapCode::UnreachableCodeReached) => Ok(-1),
                    Err(e) => Err(e),
                    Ok(()) => Ok(r[0].i32().unwrap()),
                }
            },
        )
        .unwrap();
    let inst = linker.instantiate(&mut store, &a).unwrap();
    *store.data_mut() = inst.get_func(&store, "inner");
    let outer = inst.get_typed_func::<i32, i32>(&store, "outer").unwrap();
    assert_eq!(outer.call(&mut store, 4).unwrap(), 41);
    assert_eq!(outer.call(&mut store, 0).unwrap(), 0);
    assert_eq!(outer.call(&mut store, 2).unwrap(), 21);
}

#[test]
fn host_functions_see_the_callers_memory() {
    let a = artifact(
        r#"(module
          (import "env" "sum" (func $sum (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 8) "\01\02\03\04")
          (func (export "run") (result i32) i32.const 8 i32.const 4 call $sum))"#,
    );
    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker
        .func_wrap(
            "env",
            "sum",
            |caller: Caller<'_, ()>, ptr: i32, len: i32| -> Result<i32, Error> {
                let mem = caller
                    .get_export("memory")
                    .and_then(wasmc_loader::Extern::into_memory)
                    .expect("memory export");
                let bytes = &mem.data(&caller)[ptr as usize..(ptr + len) as usize];
                Ok(bytes.iter().map(|b| i32::from(*b)).sum())
            },
        )
        .unwrap();
    let inst = linker.instantiate(&mut store, &a).unwrap();
    assert_eq!(
        call(&mut store, &inst, "run", &[]).unwrap(),
        vec![Val::I32(10)]
    );
}

#[test]
fn tables_and_references() {
    let (mut store, inst) = instantiate(
        r#"(module
          (table $t (export "t") 2 10 funcref)
          (table $e (export "e") 1 externref)
          (func $f (export "f") (result i32) i32.const 5)
          (elem declare func $f)
          (elem $seg funcref (ref.func $f) (ref.null func))
          (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow $t)
          (func (export "size") (result i32) table.size $t)
          (func (export "fill") (param i32 i32) local.get 0 ref.func $f local.get 1 table.fill $t)
          (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.copy $t $t)
          (func (export "init") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.init $t $seg)
          (func (export "get") (param i32) (result funcref) local.get 0 table.get $t)
          (func (export "call") (param i32) (result i32) local.get 0 call_indirect $t (result i32))
          (func (export "id") (param externref) (result externref) local.get 0)
          (func (export "set_e") (param externref) i32.const 0 local.get 0 table.set $e))"#,
    );
    assert_eq!(
        call(&mut store, &inst, "grow", &[Val::I32(3)]).unwrap(),
        vec![Val::I32(2)]
    );
    assert_eq!(
        call(&mut store, &inst, "size", &[]).unwrap(),
        vec![Val::I32(5)]
    );
    assert_eq!(
        call(&mut store, &inst, "grow", &[Val::I32(6)]).unwrap(),
        vec![Val::I32(-1)]
    );
    call(&mut store, &inst, "fill", &[Val::I32(1), Val::I32(2)]).unwrap();
    assert_eq!(
        call(&mut store, &inst, "call", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(5)]
    );
    let e = call(&mut store, &inst, "fill", &[Val::I32(4), Val::I32(2)]).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::TableOutOfBounds), "{e}");
    call(
        &mut store,
        &inst,
        "copy",
        &[Val::I32(3), Val::I32(1), Val::I32(2)],
    )
    .unwrap();
    assert_eq!(
        call(&mut store, &inst, "call", &[Val::I32(4)]).unwrap(),
        vec![Val::I32(5)]
    );
    call(
        &mut store,
        &inst,
        "init",
        &[Val::I32(0), Val::I32(0), Val::I32(2)],
    )
    .unwrap();
    let f = inst.get_func(&store, "f").unwrap();
    assert_eq!(
        call(&mut store, &inst, "get", &[Val::I32(0)]).unwrap(),
        vec![Val::FuncRef(Some(f))]
    );
    assert_eq!(
        call(&mut store, &inst, "get", &[Val::I32(1)]).unwrap(),
        vec![Val::FuncRef(None)]
    );
    let t = inst.get_table(&store, "t").unwrap();
    assert_eq!(t.get(&store, 0), Some(Val::FuncRef(Some(f))));
    t.set(&mut store, 1, Val::FuncRef(Some(f))).unwrap();
    assert_eq!(
        call(&mut store, &inst, "call", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(5)]
    );
    let r = wasmc_loader::ExternRef::new(99).unwrap();
    assert_eq!(
        call(&mut store, &inst, "id", &[Val::ExternRef(Some(r))]).unwrap(),
        vec![Val::ExternRef(Some(r))]
    );
    call(&mut store, &inst, "set_e", &[Val::ExternRef(Some(r))]).unwrap();
    let e = inst.get_table(&store, "e").unwrap();
    assert_eq!(e.get(&store, 0), Some(Val::ExternRef(Some(r))));
}

#[test]
fn corrupt_compiled_artifacts_are_load_errors() {
    let wasm = wat::parse_str(r#"(module (func (export "f")))"#).unwrap();
    let good = wasmc_compiler::compile(&wasm).unwrap();
    // SAFETY: compiler output.
    assert!(unsafe { Artifact::from_bytes(&good) }.is_ok());
    for n in [0, 10, 63, good.len() / 2, good.len() - 1] {
        // SAFETY: anything accepted would be compiler output.
        let e = unsafe { Artifact::from_bytes(&good[..n]) }.unwrap_err();
        assert!(e.is_load(), "prefix {n}: {e}");
    }
    let hdr = good
        .windows(8)
        .position(|w| w == wasmc_abi::metadata::MAGIC)
        .expect("header magic in the object");
    for i in [0, 8, 12, 16, 56] {
        let mut b = good.clone();
        b[hdr + i] ^= 0x40;
        // SAFETY: anything accepted would be compiler output.
        let e = unsafe { Artifact::from_bytes(&b) }.unwrap_err();
        assert!(e.is_load(), "flip at header byte {i}: {e}");
    }
    let ls = std::fs::read("/bin/ls").unwrap();
    // SAFETY: refused before any code is mapped.
    let e = unsafe { Artifact::from_bytes(&ls) }.unwrap_err();
    assert!(e.to_string().contains("not a wasmc artifact"), "{e}");
}

#[test]
fn artifacts_load_from_files() {
    let wasm = wat::parse_str(
        r#"(module (func (export "f") (param i64) (result i64) local.get 0 i64.const 1 i64.add))"#,
    )
    .unwrap();
    let bytes = wasmc_compiler::compile(&wasm).unwrap();
    let path = std::env::temp_dir().join(format!("wasmc-loader-calls-{}.o", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: compiler output, not modified while loaded.
    let a = unsafe { Artifact::from_file(&path) }.unwrap();
    let mut store = Store::new(());
    let inst = Linker::new().instantiate(&mut store, &a).unwrap();
    let f = inst.get_typed_func::<i64, i64>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, 41).unwrap(), 42);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn epoch_interruption_stops_an_infinite_loop() {
    let wasm = wat::parse_str(
        r#"(module
          (func (export "spin") (loop br 0))
          (func (export "ok") (result i32) i32.const 1))"#,
    )
    .unwrap();
    let opts = wasmc_compiler::CompileOptions::new().epoch_interruption(true);
    let bytes = wasmc_compiler::Compiler::new(&opts)
        .unwrap()
        .compile(&wasm)
        .unwrap();
    // SAFETY: compiler output.
    let a = unsafe { Artifact::from_bytes(&bytes) }.unwrap();
    let mut store = Store::new(());
    let inst = Linker::new().instantiate(&mut store, &a).unwrap();
    store.set_epoch_deadline(1);
    let ticker = std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        wasmc_loader::increment_epoch();
    });
    let e = call(&mut store, &inst, "spin", &[]).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::Interrupt), "{e}");
    ticker.join().unwrap();
    // The deadline stays passed until the host moves it.
    let e = call(&mut store, &inst, "ok", &[]).unwrap_err();
    assert_eq!(e.trap_code(), Some(TrapCode::Interrupt), "{e}");
    store.set_epoch_deadline(1);
    assert_eq!(
        call(&mut store, &inst, "ok", &[]).unwrap(),
        vec![Val::I32(1)]
    );
}
