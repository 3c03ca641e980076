//! Resource limits (issue 5): a store's `ResourceLimiter`/`StoreLimits` bounding memory and
//! table growth and instance, memory and table counts; an `InstanceBudget` shared by stores
//! on many threads; fuel; the wasm stack limit. In every case the guest gets what the spec
//! says (`memory.grow` returns -1) or a clear error, and the host goes on.

use std::sync::{Arc, Barrier};

use wasmc_abi::TrapCode;
use wasmc_compiler::{CompileOptions, Compiler};
use wasmc_loader::{
    Artifact, Caller, Error, ErrorKind, InstanceBudget, Linker, Memory, MemoryType,
    ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Val,
};

const PAGE: usize = 65536;

fn mem_ty(min: u64) -> MemoryType {
    MemoryType {
        min,
        max: None,
        idx64: false,
        shared: false,
        page_size_log2: 16,
    }
}

/// A store whose data is its limits, installed as its limiter.
fn limited_store(limits: StoreLimits) -> Store<StoreLimits> {
    let mut store = Store::new(limits);
    store.limiter(|l| l);
    store
}

fn instantiate(store: &mut Store<StoreLimits>, artifact: &Artifact) -> wasmc_loader::Instance {
    Linker::new()
        .instantiate(store, artifact)
        .unwrap_or_else(|e| panic!("instantiating: {e}"))
}

/// Compiles and loads WAT with fuel metering.
fn load_fuel(wat: &str) -> Artifact {
    wasmc_cli::input::compile_and_load(
        &Compiler::new(&CompileOptions::new().consume_fuel(true)).expect("host compiler"),
        &wat::parse_str(wat).expect("test WAT parses"),
    )
    .unwrap_or_else(|e| panic!("{:#}", anyhow::Error::new(e)))
}

const GROWER: &str = r#"(module
  (memory (export "mem") 1)
  (table (export "tab") 1 funcref)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)
  (func (export "table_grow") (param i32) (result i32)
    ref.null func local.get 0 table.grow 0)
  ;; Grows one page at a time until memory.grow says -1, writing to each new page; returns
  ;; how many pages it got (a C-like allocator running until malloc fails).
  (func (export "grab_all") (result i32) (local $n i32) (local $old i32)
    (block $done
      (loop $more
        (local.set $old (memory.grow (i32.const 1)))
        (br_if $done (i32.eq (local.get $old) (i32.const -1)))
        (i32.store (i32.mul (local.get $old) (i32.const 65536)) (i32.const 7))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $more)))
    local.get $n))"#;

#[test]
fn memory_grow_returns_minus_one_at_the_limit() {
    let artifact = crate::load(GROWER);
    let mut store = limited_store(StoreLimitsBuilder::new().memory_size(3 * PAGE).build());
    let i = instantiate(&mut store, &artifact);
    let grow = i.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    let size = i.get_typed_func::<(), i32>(&store, "size").unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1, "past the limit");
    assert_eq!(
        grow.call(&mut store, 0).unwrap(),
        3,
        "growing by 0 always works"
    );
    assert_eq!(size.call(&mut store, ()).unwrap(), 3);

    // The host's own grow fails with an error naming the limit and the sizes.
    let mem = i.get_memory(&store, "mem").unwrap();
    let err = mem.grow(&mut store, 1).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Instantiate(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("resource limit exceeded"), "{msg}");
    assert!(
        msg.contains(&format!("from {} to {} bytes", 3 * PAGE, 4 * PAGE)),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("its limit is {} bytes", 3 * PAGE)),
        "{msg}"
    );
    assert_eq!(mem.size(&store), 3);
}

#[test]
fn table_grow_returns_minus_one_at_the_limit() {
    let artifact = crate::load(GROWER);
    let mut store = limited_store(StoreLimitsBuilder::new().table_elements(5).build());
    let i = instantiate(&mut store, &artifact);
    let grow = i.get_typed_func::<i32, i32>(&store, "table_grow").unwrap();
    assert_eq!(grow.call(&mut store, 4).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    let tab = i.get_table(&store, "tab").unwrap();
    assert_eq!(tab.size(&store), 5);
    let err = tab.grow(&mut store, 1, Val::FuncRef(None)).unwrap_err();
    assert!(
        err.to_string()
            .contains("from 5 to 6 elements (its limit is 5 elements)"),
        "{err}"
    );
}

#[test]
fn a_guest_that_allocates_until_it_cannot_gets_minus_one_and_the_host_goes_on() {
    let artifact = crate::load(GROWER);
    let mut store = limited_store(StoreLimitsBuilder::new().memory_size(16 * PAGE).build());
    let i = instantiate(&mut store, &artifact);
    let grab = i.get_typed_func::<(), i32>(&store, "grab_all").unwrap();
    assert_eq!(
        grab.call(&mut store, ()).unwrap(),
        15,
        "1 initial page + 15 = the limit"
    );
    let mem = i.get_memory(&store, "mem").unwrap();
    assert_eq!(mem.data_size(&store), 16 * PAGE);
    assert_eq!(mem.data(&store)[15 * PAGE], 7);
    // Nothing more to get, and the instance still works.
    assert_eq!(grab.call(&mut store, ()).unwrap(), 0);
    let size = i.get_typed_func::<(), i32>(&store, "size").unwrap();
    assert_eq!(size.call(&mut store, ()).unwrap(), 16);
}

#[test]
fn trap_on_grow_failure_traps_with_the_limit() {
    let artifact = crate::load(GROWER);
    let mut store = limited_store(
        StoreLimitsBuilder::new()
            .memory_size(2 * PAGE)
            .table_elements(2)
            .trap_on_grow_failure(true)
            .build(),
    );
    let i = instantiate(&mut store, &artifact);
    let grow = i.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    let err = grow.call(&mut store, 1).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::HostTrap), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("memory growing to 196608 bytes"), "{msg}");
    assert!(msg.contains("limit of 131072 bytes"), "{msg}");
    let tgrow = i.get_typed_func::<i32, i32>(&store, "table_grow").unwrap();
    let err = tgrow.call(&mut store, 5).unwrap_err();
    assert!(
        err.to_string().contains("table growing to 6 elements"),
        "{err}"
    );
    // The store goes on.
    assert_eq!(grow.call(&mut store, 0).unwrap(), 2);
}

/// A limiter that fails with a host error of its own: Wasm traps with that error, unchanged.
struct Failing;

#[derive(Debug)]
struct QuotaError(usize);
impl std::fmt::Display for QuotaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "quota service refused {} bytes", self.0)
    }
}
impl std::error::Error for QuotaError {}

impl ResourceLimiter for Failing {
    fn memory_growing(
        &mut self,
        _: usize,
        desired: usize,
        _: Option<usize>,
    ) -> Result<bool, Error> {
        if desired > PAGE {
            Err(Error::host(QuotaError(desired)))
        } else {
            Ok(true)
        }
    }
    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool, Error> {
        Ok(true)
    }
}

#[test]
fn a_failing_limiter_makes_the_guest_trap_with_its_error() {
    let artifact = crate::load(GROWER);
    let mut store = Store::new(Failing);
    store.limiter(|l| l);
    let i = Linker::new().instantiate(&mut store, &artifact).unwrap();
    let grow = i.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    let err = grow.call(&mut store, 1).unwrap_err();
    assert_eq!(
        err.downcast_ref::<QuotaError>().map(|q| q.0),
        Some(2 * PAGE),
        "{err}"
    );
    let size = i.get_typed_func::<(), i32>(&store, "size").unwrap();
    assert_eq!(size.call(&mut store, ()).unwrap(), 1);
}

#[test]
fn instantiation_over_the_limits_fails_naming_them() {
    let big_memory = crate::load("(module (memory 10))");
    let mut store = limited_store(StoreLimitsBuilder::new().memory_size(5 * PAGE).build());
    let err = Linker::new()
        .instantiate(&mut store, &big_memory)
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Instantiate(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(
            "memory of initial size 655360 bytes is over the store's limit of 327680 bytes"
        ),
        "{msg}"
    );
    // A host-created memory is held to the same limit.
    let err = Memory::new(&mut store, mem_ty(6)).unwrap_err();
    assert!(err.to_string().contains("393216 bytes"), "{err}");

    let big_table = crate::load("(module (table 100 funcref))");
    let mut store = limited_store(StoreLimitsBuilder::new().table_elements(10).build());
    let err = Linker::new()
        .instantiate(&mut store, &big_table)
        .unwrap_err();
    assert!(
        err.to_string().contains(
            "table of initial size 100 elements is over the store's limit of 10 elements"
        ),
        "{err}"
    );
    // Within the limits it works.
    let small = crate::load("(module (memory 5) (table 10 funcref))");
    let mut store = limited_store(
        StoreLimitsBuilder::new()
            .memory_size(5 * PAGE)
            .table_elements(10)
            .build(),
    );
    instantiate(&mut store, &small);
}

#[test]
fn instance_memory_and_table_counts_are_limited() {
    let artifact = crate::load("(module (memory 1) (table 1 funcref))");
    let mut store = limited_store(StoreLimitsBuilder::new().instances(2).build());
    instantiate(&mut store, &artifact);
    instantiate(&mut store, &artifact);
    let err = Linker::new()
        .instantiate(&mut store, &artifact)
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Instantiate(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("the store holds 2 instances and may hold at most 2"),
        "{err}"
    );

    let mut store = limited_store(StoreLimitsBuilder::new().memories(1).build());
    instantiate(&mut store, &artifact);
    let err = Linker::new()
        .instantiate(&mut store, &artifact)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the store holds 1 memories and may hold at most 1; 1 more were requested"),
        "{err}"
    );

    let mut store = limited_store(StoreLimitsBuilder::new().tables(1).build());
    instantiate(&mut store, &artifact);
    let err = Linker::new()
        .instantiate(&mut store, &artifact)
        .unwrap_err();
    assert!(err.to_string().contains("1 tables"), "{err}");

    // A module that only imports memory does not count one.
    let importer = crate::load(r#"(module (import "env" "m" (memory 1)))"#);
    let mut store = limited_store(StoreLimitsBuilder::new().memories(1).build());
    let m = Memory::new(&mut store, mem_ty(1)).unwrap();
    let mut linker = Linker::new();
    linker
        .define("env", "m", wasmc_loader::Extern::Memory(m))
        .unwrap();
    linker.instantiate(&mut store, &importer).unwrap();
    assert!(Memory::new(&mut store, mem_ty(0)).is_err());
}

#[test]
fn an_instance_budget_caps_instances_across_stores_and_threads() {
    const THREADS: usize = 8;
    const BUDGET: usize = 3;
    let artifact = crate::load("(module (func (export \"f\") (result i32) i32.const 1))");
    let budget = InstanceBudget::new(BUDGET);
    for round in 0..2 {
        // Every thread instantiates once and holds its store until all have tried.
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (artifact, budget, barrier) =
                    (artifact.clone(), budget.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut store = Store::new(());
                    store.set_instance_budget(&budget).unwrap();
                    let result = Linker::new().instantiate(&mut store, &artifact);
                    let ok = match &result {
                        Ok(i) => {
                            let f = i.get_typed_func::<(), i32>(&store, "f").unwrap();
                            f.call(&mut store, ()).unwrap() == 1
                        }
                        Err(e) => {
                            let msg = e.to_string();
                            assert!(msg.contains("instance budget of 3 is exhausted"), "{msg}");
                            false
                        }
                    };
                    barrier.wait();
                    ok
                })
            })
            .collect();
        let succeeded = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|ok| *ok)
            .count();
        assert_eq!(succeeded, BUDGET, "round {round}");
        // Every store was dropped: the budget is whole again for the next round.
        assert_eq!(budget.in_use(), 0, "round {round}");
    }

    // A store attached after it made instances charges them, or refuses.
    let mut store = Store::new(());
    for _ in 0..4 {
        Linker::new().instantiate(&mut store, &artifact).unwrap();
    }
    let err = store.set_instance_budget(&budget).unwrap_err();
    assert!(err.to_string().contains("4 more requested"), "{err}");
    let big = InstanceBudget::new(10);
    store.set_instance_budget(&big).unwrap();
    assert_eq!(big.in_use(), 4);
    drop(store);
    assert_eq!(big.in_use(), 0);
}

/// Three operators that cost fuel: `local.get`, `i32.const`, `i32.add` (`end` is free).
const STRAIGHT: &str = r#"(module
  (import "host" "fuel" (func $fuel (result i64)))
  (func (export "inc") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
  ;; 2 + `call $g` 1 + g's 3 = ... see the test.
  (func $g (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
  (func (export "call_g") (result i32) i32.const 5 call $g)
  ;; Five per turn: local.get, i32.const, i32.sub, local.tee, br_if.
  (func (export "count_down") (param i32)
    (loop $l
      local.get 0 i32.const 1 i32.sub local.tee 0 br_if $l))
  (func (export "spin") (loop $l br $l))
  (func (export "fuel_seen_by_host") (result i64) call $fuel))"#;

fn fuel_instance(artifact: &Artifact) -> (Store<()>, wasmc_loader::Instance) {
    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker
        .func_wrap("host", "fuel", |caller: Caller<'_, ()>| {
            Ok(i64::try_from(caller.get_fuel()?).unwrap_or(i64::MAX))
        })
        .unwrap();
    let i = linker.instantiate(&mut store, artifact).unwrap();
    (store, i)
}

#[test]
fn fuel_counts_operators_exactly_and_runs_out() {
    let artifact = load_fuel(STRAIGHT);
    let (mut store, i) = fuel_instance(&artifact);
    let inc = i.get_typed_func::<i32, i32>(&store, "inc").unwrap();
    let call_g = i.get_typed_func::<(), i32>(&store, "call_g").unwrap();

    // A store starts without fuel: the first function entry traps.
    let err = inc.call(&mut store, 1).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err}");
    assert!(err.to_string().contains("all fuel consumed"), "{err}");

    store.set_fuel(100).unwrap();
    assert_eq!(store.get_fuel().unwrap(), 100);
    assert_eq!(inc.call(&mut store, 41).unwrap(), 42);
    assert_eq!(store.get_fuel().unwrap(), 97);
    // i32.const + call in the caller, three in the callee.
    assert_eq!(call_g.call(&mut store, ()).unwrap(), 10);
    assert_eq!(store.get_fuel().unwrap(), 92);

    // Straight-line code checks only on entry: with 2 units left it runs its 3 and stops
    // at the next entry.
    store.set_fuel(2).unwrap();
    assert_eq!(inc.call(&mut store, 1).unwrap(), 2);
    assert_eq!(store.get_fuel().unwrap(), 0);
    let err = inc.call(&mut store, 1).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err}");

    // Refuelling brings it back.
    store.set_fuel(3).unwrap();
    assert_eq!(inc.call(&mut store, 5).unwrap(), 6);
    assert_eq!(store.get_fuel().unwrap(), 0);
}

#[test]
fn fuel_stops_loops_and_counts_each_turn() {
    let artifact = load_fuel(STRAIGHT);
    let (mut store, i) = fuel_instance(&artifact);
    let count_down = i.get_typed_func::<i32, ()>(&store, "count_down").unwrap();
    store.set_fuel(1_000).unwrap();
    count_down.call(&mut store, 10).unwrap();
    assert_eq!(store.get_fuel().unwrap(), 1_000 - 50);

    // An endless loop stops with OutOfFuel, and the store goes on.
    let spin = i.get_typed_func::<(), ()>(&store, "spin").unwrap();
    store.set_fuel(1_000_000).unwrap();
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err}");
    assert_eq!(store.get_fuel().unwrap(), 0);
    store.set_fuel(100).unwrap();
    count_down.call(&mut store, 2).unwrap();
    assert_eq!(store.get_fuel().unwrap(), 90);
    // Not enough for 100 turns: the loop header check stops it.
    let err = count_down.call(&mut store, 100).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err}");
}

#[test]
fn a_host_function_sees_the_fuel_left() {
    let artifact = load_fuel(STRAIGHT);
    let (mut store, i) = fuel_instance(&artifact);
    let f = i
        .get_typed_func::<(), i64>(&store, "fuel_seen_by_host")
        .unwrap();
    store.set_fuel(50).unwrap();
    // The `call` itself has been counted when the host runs.
    assert_eq!(f.call(&mut store, ()).unwrap(), 49);
    assert_eq!(store.get_fuel().unwrap(), 49);
}

#[test]
fn fuel_is_refused_where_it_could_not_work() {
    let plain = crate::load("(module (func (export \"f\")))");
    let mut store = Store::new(());
    let err = store.get_fuel().unwrap_err();
    assert!(err.to_string().contains("fuel is not in use"), "{err}");
    Linker::new().instantiate(&mut store, &plain).unwrap();
    let err = store.set_fuel(10).unwrap_err();
    assert!(
        err.to_string().contains("compiled without fuel metering"),
        "{err}"
    );

    // Once a store counts fuel, code that does not cannot join it.
    let mut store = Store::new(());
    store.set_fuel(10).unwrap();
    let err = Linker::new().instantiate(&mut store, &plain).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Instantiate(_)), "{err:?}");
    assert!(err.to_string().contains("without fuel metering"), "{err}");
}

const RECURSE: &str = r#"(module
  (global $depth (export "depth") (mut i32) (i32.const 0))
  (func $r (export "recurse") (param i32) (result i32)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    local.get 0 i32.const 1 i32.add call $r i32.const 1 i32.add)
  (func (export "ok") (result i32) i32.const 7))"#;

/// Recurses without end under a `max` stack limit; returns how deep it got.
fn overflow_depth(artifact: &Artifact, max: usize) -> i32 {
    let mut store = Store::new(());
    store.set_max_wasm_stack(max);
    let i = Linker::new().instantiate(&mut store, artifact).unwrap();
    let r = i.get_typed_func::<i32, i32>(&store, "recurse").unwrap();
    let err = r.call(&mut store, 0).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err}");
    assert!(err.to_string().contains("call stack exhausted"), "{err}");
    // The store goes on, and overflows again the same way.
    let ok = i.get_typed_func::<(), i32>(&store, "ok").unwrap();
    assert_eq!(ok.call(&mut store, ()).unwrap(), 7);
    let depth = i.get_global(&store, "depth").unwrap();
    let Val::I32(first) = depth.get(&store) else {
        panic!("depth is an i32")
    };
    depth.set(&mut store, Val::I32(0)).unwrap();
    assert!(r.call(&mut store, 0).is_err());
    assert_eq!(
        depth.get(&store),
        Val::I32(first),
        "same depth on the second overflow"
    );
    first
}

#[test]
fn unbounded_recursion_overflows_cleanly_at_the_configured_size() {
    let artifact = crate::load(RECURSE);
    // Run on a thread with a known, big stack so the large setting fits below the host's
    // frames.
    let small_and_large = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            (
                overflow_depth(&artifact, 32 << 10),
                overflow_depth(&artifact, 8 << 20),
            )
        })
        .unwrap()
        .join()
        .unwrap();
    let (small, large) = small_and_large;
    assert!(
        small > 10,
        "a 32 KiB stack holds more than 10 frames: {small}"
    );
    // 256 times the stack: frames are the same size, so the depth scales with it (allowing
    // for the fixed cost of the first frames).
    assert!(
        large > small * 200,
        "8 MiB should go about 256 times deeper than 32 KiB: {small} vs {large}"
    );
}

/// The example of docs/EMBEDDING.md §10, verbatim apart from how the artifact is loaded.
#[test]
fn the_embedding_guide_example_runs() -> anyhow::Result<()> {
    struct Host {
        limits: StoreLimits,
    }

    let wasm = wat::parse_str(
        r#"(module (memory 1)
        (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
        (func (export "spin") (loop $l br $l)))"#,
    )?;
    // The guide loads with `unsafe { Artifact::from_bytes(&bytes) }`; this crate allows no
    // `unsafe`, so it goes through the CLI's compile-and-load helper, which does the same.
    let compiler = Compiler::new(&CompileOptions::new().consume_fuel(true))?;
    let artifact = wasmc_cli::input::compile_and_load(&compiler, &wasm)?;

    let mut store = Store::new(Host {
        limits: StoreLimitsBuilder::new()
            .memory_size(4 << 16)
            .instances(10)
            .build(),
    });
    store.limiter(|host| &mut host.limits);
    store.set_fuel(1_000_000)?;
    let instance = Linker::new().instantiate(&mut store, &artifact)?;

    let grow = instance.get_typed_func::<i32, i32>(&store, "grow")?;
    assert_eq!(grow.call(&mut store, 3)?, 1); // 4 pages: at the limit
    assert_eq!(grow.call(&mut store, 1)?, -1); // past it: -1, as the spec allows
    let spin = instance.get_typed_func::<(), ()>(&store, "spin")?;
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
    assert_eq!(store.get_fuel()?, 0);
    Ok(())
}

/// The benchmark corpus beside the repository (`../shared/bench/wasm`), if present.
fn bench_wasm(program: &str) -> Option<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/wasm");
    let wasm = std::fs::read(dir.join(format!("{program}.wasm"))).ok();
    if wasm.is_none() {
        eprintln!("skipping {program}: not in {}", dir.display());
    }
    wasm
}

/// Runs a WASI program of the corpus to completion; with `fuel`, compiled with metering and
/// given all the fuel there is. Returns its stdout, the time `_start` took, and the fuel it
/// used.
fn run_bench(wasm: &[u8], program: &str, fuel: bool) -> (Vec<u8>, std::time::Duration, u64) {
    use wasmc_loader::wasi::{self, OutputBuffer, WasiCtx, WasiCtxBuilder};

    let compiler = Compiler::new(&CompileOptions::new().consume_fuel(fuel)).unwrap();
    let artifact = wasmc_cli::input::compile_and_load(&compiler, wasm).unwrap();
    let out = OutputBuffer::new();
    let ctx = WasiCtxBuilder::new()
        .arg(program)
        .stdout(out.clone())
        .build()
        .unwrap();
    let mut store = Store::new(ctx);
    let budget = i64::MAX.unsigned_abs();
    if fuel {
        store.set_fuel(budget).unwrap();
    }
    let mut linker = Linker::<WasiCtx>::new();
    wasi::add_to_linker(&mut linker, |c| c);
    let i = linker.instantiate(&mut store, &artifact).unwrap();
    let start = i.get_typed_func::<(), ()>(&store, "_start").unwrap();
    let t = std::time::Instant::now();
    match start.call(&mut store, ()) {
        Ok(()) => {}
        Err(e) if e.exit_code() == Some(0) => {}
        Err(e) => panic!("{program} (fuel {fuel}): {e}"),
    }
    let elapsed = t.elapsed();
    let used = if fuel {
        budget - store.get_fuel().unwrap()
    } else {
        0
    };
    (out.contents(), elapsed, used)
}

/// A real C program (malloc growing memory, pointer chasing, libc) computes the same thing
/// with fuel metering, and uses the same fuel every time. (The ignored measurement below
/// checks the output of five more.)
#[test]
fn fuel_metered_c_programs_give_the_same_output() {
    for program in ["alloc"] {
        let Some(wasm) = bench_wasm(program) else {
            continue;
        };
        let (plain, _, _) = run_bench(&wasm, program, false);
        let (metered, _, used) = run_bench(&wasm, program, true);
        assert!(
            String::from_utf8_lossy(&plain).contains("checksum: "),
            "{program}"
        );
        assert_eq!(plain, metered, "{program}");
        assert!(used > 1_000_000, "{program} used only {used} fuel");
        let (_, _, again) = run_bench(&wasm, program, true);
        assert_eq!(used, again, "{program}: fuel use is deterministic");
    }
}

/// What fuel costs, on the benchmark corpus: each program compiled with and without
/// `consume_fuel`, run to completion (best of 3), same output. Timing is only meaningful in
/// release mode:
/// `cargo test --release -p wasmc-tests --test all fuel_cost -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, run by hand in release mode"]
fn fuel_cost_on_the_bench_corpus() {
    let programs = std::env::var("WASMC_FUEL_BENCH")
        .unwrap_or_else(|_| "fib sieve matmul sort sha256 alloc".to_string());
    let mut ratios = Vec::new();
    for program in programs.split_whitespace() {
        let Some(wasm) = bench_wasm(program) else {
            continue;
        };
        let mut results = Vec::new();
        for fuel in [false, true] {
            let mut best = std::time::Duration::MAX;
            let mut last = (Vec::new(), 0);
            for _ in 0..3 {
                let (stdout, time, used) = run_bench(&wasm, program, fuel);
                best = best.min(time);
                last = (stdout, used);
            }
            if fuel {
                eprintln!("  {program}: {} units of fuel", last.1);
            }
            results.push((best, last.0));
        }
        assert_eq!(
            results[0].1, results[1].1,
            "{program}: same output with fuel"
        );
        let ratio = results[1].0.as_secs_f64() / results[0].0.as_secs_f64();
        eprintln!(
            "{program}: {:.3} s without fuel, {:.3} s with fuel: {:+.0} %",
            results[0].0.as_secs_f64(),
            results[1].0.as_secs_f64(),
            (ratio - 1.0) * 100.0
        );
        ratios.push(ratio);
    }
    if !ratios.is_empty() {
        let geomean = ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64;
        eprintln!("geomean: {:+.0} %", (geomean.exp() - 1.0) * 100.0);
    }
}
