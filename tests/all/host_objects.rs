//! Memories, tables and globals seen from both sides: created or changed by the host and used
//! by Wasm, exported by Wasm and changed by the host; an artifact dropped while its instances
//! live on; independent stores running and trapping on several threads at once.

use wasmc_abi::TrapCode;
use wasmc_loader::{
    Extern, Global, GlobalType, Linker, Memory, MemoryType, Store, Table, TableType, Val, ValType,
};

const USES_IMPORTS: &str = r#"(module
  (import "host" "mem" (memory 1))
  (import "host" "tab" (table 1 funcref))
  (import "host" "g" (global $g (mut i64)))
  (type $r (func (result i32)))
  (func $five (export "five") (result i32) i32.const 5)
  (elem declare func $five)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "size") (result i32) memory.size)
  (func (export "table-size") (result i32) table.size 0)
  (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $r))
  (func (export "put-five") (param i32) local.get 0 ref.func $five table.set 0)
  (func (export "bump-g") (result i64)
    global.get $g i64.const 1 i64.add global.set $g global.get $g))"#;

#[test]
fn host_created_memory_table_and_global_are_shared_with_wasm() {
    let artifact = crate::load(USES_IMPORTS);
    let mut store = Store::new(());
    let memory = Memory::new(
        &mut store,
        MemoryType {
            min: 1,
            max: Some(3),
            idx64: false,
            shared: false,
            page_size_log2: 16,
        },
    )
    .expect("memory");
    let table = Table::new(
        &mut store,
        TableType {
            element: ValType::FuncRef,
            min: 1,
            max: None,
            idx64: false,
        },
        Val::FuncRef(None),
    )
    .expect("table");
    let global = Global::new(
        &mut store,
        GlobalType {
            ty: ValType::I64,
            mutable: true,
        },
        Val::I64(41),
    )
    .expect("global");
    let mut linker = Linker::new();
    linker
        .define("host", "mem", Extern::Memory(memory))
        .expect("mem");
    linker
        .define("host", "tab", Extern::Table(table))
        .expect("tab");
    linker
        .define("host", "g", Extern::Global(global))
        .expect("g");
    let instance = linker
        .instantiate(&mut store, &artifact)
        .expect("instantiating");
    let load = instance
        .get_typed_func::<i32, i32>(&store, "load")
        .expect("load");
    let size = instance
        .get_typed_func::<(), i32>(&store, "size")
        .expect("size");

    // Memory: host writes, Wasm reads; the host grows it and Wasm sees the new pages.
    memory
        .write(&mut store, 8, &0x0102_0304i32.to_le_bytes())
        .expect("host write");
    assert_eq!(load.call(&mut store, 8).expect("load"), 0x0102_0304);
    assert_eq!(memory.grow(&mut store, 1).expect("host grow"), 1);
    assert_eq!(size.call(&mut store, ()).expect("size"), 2);
    memory
        .write(&mut store, 70_000, &7i32.to_le_bytes())
        .expect("write into the new page");
    assert_eq!(load.call(&mut store, 70_000).expect("load new page"), 7);
    let err = load.call(&mut store, 131_070).expect_err("past the end");
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds));
    assert!(memory.grow(&mut store, 2).is_err(), "past the maximum");
    assert!(memory.write(&mut store, 131_070, &[0; 4]).is_err());

    // Table: the host grows it, Wasm fills the new slot, the host reads the funcref back.
    let table_size = instance
        .get_typed_func::<(), i32>(&store, "table-size")
        .expect("table-size");
    assert_eq!(
        table.grow(&mut store, 2, Val::FuncRef(None)).expect("grow"),
        1
    );
    assert_eq!(table_size.call(&mut store, ()).expect("table-size"), 3);
    let put = instance
        .get_typed_func::<i32, ()>(&store, "put-five")
        .expect("put-five");
    put.call(&mut store, 2).expect("put-five");
    let call = instance
        .get_typed_func::<i32, i32>(&store, "call")
        .expect("call");
    assert_eq!(call.call(&mut store, 2).expect("call slot 2"), 5);
    let Some(Val::FuncRef(Some(five))) = table.get(&store, 2) else {
        panic!("slot 2 holds a funcref");
    };
    let mut out = [Val::I32(0)];
    five.call(&mut store, &[], &mut out).expect("calling it");
    assert_eq!(out, [Val::I32(5)]);
    // The host puts that function into slot 0 too.
    table
        .set(&mut store, 0, Val::FuncRef(Some(five)))
        .expect("set");
    assert_eq!(call.call(&mut store, 0).expect("call slot 0"), 5);
    let err = call.call(&mut store, 1).expect_err("null slot");
    assert_eq!(err.trap_code(), Some(TrapCode::IndirectCallToNull));

    // Global: shared both ways.
    let bump = instance
        .get_typed_func::<(), i64>(&store, "bump-g")
        .expect("bump-g");
    assert_eq!(bump.call(&mut store, ()).expect("bump"), 42);
    assert_eq!(global.get(&store), Val::I64(42));
    global.set(&mut store, Val::I64(-10)).expect("host set");
    assert_eq!(bump.call(&mut store, ()).expect("bump"), -9);
    assert!(global.set(&mut store, Val::I32(0)).is_err(), "wrong type");
}

#[test]
fn wrongly_typed_host_objects_do_not_link() {
    let artifact = crate::load(USES_IMPORTS);
    let mut store = Store::new(());
    let mut linker = Linker::new();
    let immutable = Global::new(
        &mut store,
        GlobalType {
            ty: ValType::I64,
            mutable: false,
        },
        Val::I64(0),
    )
    .expect("global");
    linker
        .define("host", "g", Extern::Global(immutable))
        .expect("g");
    let err = linker
        .instantiate(&mut store, &artifact)
        .expect_err("missing and mistyped imports");
    assert!(err.is_link(), "{err}");
    assert!(err.to_string().contains("host"), "{err}");
}

#[test]
fn instances_outlive_their_artifact_handle() {
    let mut store = Store::new(());
    let instance = {
        let artifact = crate::load(
            r#"(module (memory 1) (data (i32.const 0) "\2a")
                 (func (export "get") (result i32) i32.const 0 i32.load8_u))"#,
        );
        Linker::new()
            .instantiate(&mut store, &artifact)
            .expect("instantiating")
    };
    let get = instance
        .get_typed_func::<(), i32>(&store, "get")
        .expect("get");
    assert_eq!(get.call(&mut store, ()).expect("get"), 42);
}

#[test]
fn stores_on_many_threads_run_and_trap_independently() {
    let artifact = crate::load(
        r#"(module
             (func $fib (export "fib") (param i32) (result i32)
               local.get 0 i32.const 2 i32.lt_u
               if (result i32) local.get 0
               else
                 local.get 0 i32.const 1 i32.sub call $fib
                 local.get 0 i32.const 2 i32.sub call $fib
                 i32.add
               end)
             (func (export "div") (param i32) (result i32) i32.const 1 local.get 0 i32.div_s)
             (func $down (export "down") (param i32) (result i32)
               local.get 0 i32.const 1 i32.add call $down))"#,
    );
    std::thread::scope(|s| {
        for t in 0..4 {
            let artifact = &artifact;
            s.spawn(move || {
                let mut store = Store::new(());
                let instance = Linker::new()
                    .instantiate(&mut store, artifact)
                    .expect("instantiating");
                let fib = instance
                    .get_typed_func::<i32, i32>(&store, "fib")
                    .expect("fib");
                let div = instance
                    .get_typed_func::<i32, i32>(&store, "div")
                    .expect("div");
                let down = instance
                    .get_typed_func::<i32, i32>(&store, "down")
                    .expect("down");
                for i in 0..50 {
                    assert_eq!(fib.call(&mut store, 15).expect("fib"), 610, "thread {t}");
                    let err = div.call(&mut store, 0).expect_err("divide by zero");
                    assert_eq!(err.trap_code(), Some(TrapCode::IntegerDivisionByZero));
                    if i % 10 == 0 {
                        let err = down.call(&mut store, 0).expect_err("stack exhaustion");
                        assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow));
                    }
                }
            });
        }
    });
}
