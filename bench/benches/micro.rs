//! Criterion micro-benchmarks of the embedding API, wasmc beside wasmtime: every group has
//! one line per engine so criterion prints them together. What each group times (and what it
//! leaves out) is said at its function; `docs/PERFORMANCE.md` ("Micro-benchmarks") has the
//! method and the latest figures. The 100,000-cycle churn test is `benches/churn.rs`.
//!
//! The defaults (0.5 s warm-up, 2 s measurement per line) keep a full run near 90 seconds;
//! criterion's own flags override them (`-- --quick`, `--measurement-time 5`, a filter such
//! as `cold_start`).

mod common;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use wasmc_loader as wc;
use wasmtime as wt;

use common::{Prepared, Scratch};

/// How many outputs [`timed_without_drop`] keeps before stopping the clock to drop them.
const DROP_BATCH: u64 = 16;

/// Runs `routine` `iters` times and returns the time spent in it; outputs are dropped after
/// the clock has stopped, [`DROP_BATCH`] at a time. Cold-start lines thus time the way *into*
/// a first result, not the teardown (the churn program times whole cycles, drop included).
/// Batching spreads the cost of reading the clock (20-40 ns a pair here, 10 % of the
/// shortest line) over 16 iterations; holding 16 outputs at once is cheap (a few tens of MiB
/// for the 1 MiB data module).
fn timed_without_drop<O>(iters: u64, mut routine: impl FnMut() -> O) -> Duration {
    let mut total = Duration::ZERO;
    let mut outputs = Vec::with_capacity(DROP_BATCH as usize);
    let mut left = iters;
    while left > 0 {
        let n = left.min(DROP_BATCH);
        let start = Instant::now();
        for _ in 0..n {
            outputs.push(routine());
        }
        total += start.elapsed();
        black_box(&mut outputs);
        outputs.clear();
        left -= n;
    }
    total
}

/// wasmc: store + instantiate (through a linker with no definitions) + typed call of `f`.
fn wasmc_run(linker: &wc::Linker<()>, artifact: &wc::Artifact, expect: i32) -> wc::Store<()> {
    let mut store = wc::Store::new(());
    let instance = linker
        .instantiate(&mut store, artifact)
        .expect("wasmc instantiate");
    let f = instance
        .get_typed_func::<(), i32>(&store, "f")
        .expect("wasmc export f");
    assert_eq!(f.call(&mut store, ()).expect("wasmc call"), expect);
    store
}

/// wasmtime: the same steps as [`wasmc_run`].
fn wasmtime_run(
    engine: &wt::Engine,
    linker: &wt::Linker<()>,
    module: &wt::Module,
    expect: i32,
) -> wt::Store<()> {
    let mut store = wt::Store::new(engine, ());
    let instance = linker
        .instantiate(&mut store, module)
        .expect("wasmtime instantiate");
    let f = instance
        .get_typed_func::<(), i32>(&mut store, "f")
        .expect("wasmtime export f");
    assert_eq!(f.call(&mut store, ()).expect("wasmtime call"), expect);
    store
}

/// The cold-start family for one module (`name` is the group suffix): loading the artifact
/// file, instantiating and calling `f` (the full cold start), then its parts, load alone and
/// instantiate alone (a fresh store each time, from an artifact loaded before the clock
/// starts). `wasmc_unchecked` lines load with `from_file_unchecked`, which skips hashing the
/// file.
fn cold_start_family(
    c: &mut Criterion,
    engine: &wt::Engine,
    name: &str,
    p: &Prepared,
    expect: i32,
) {
    let wc_linker = wc::Linker::<()>::new();
    let wt_linker = wt::Linker::<()>::new(engine);

    let mut g = c.benchmark_group(format!("cold_start/{name}"));
    g.bench_function("wasmc", |b| {
        b.iter_custom(|iters| {
            timed_without_drop(iters, || {
                let artifact = common::load_wasmc(&p.wasmc);
                let store = wasmc_run(&wc_linker, &artifact, expect);
                (store, artifact)
            })
        })
    });
    g.bench_function("wasmc_unchecked", |b| {
        b.iter_custom(|iters| {
            timed_without_drop(iters, || {
                let artifact = common::load_wasmc_unchecked(&p.wasmc);
                let store = wasmc_run(&wc_linker, &artifact, expect);
                (store, artifact)
            })
        })
    });
    g.bench_function("wasmtime", |b| {
        b.iter_custom(|iters| {
            timed_without_drop(iters, || {
                let module = common::load_wasmtime(engine, &p.wasmtime);
                let store = wasmtime_run(engine, &wt_linker, &module, expect);
                (store, module)
            })
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("load/{name}"));
    bench_load(&mut g, "wasmc", &p.wasmc, common::load_wasmc);
    bench_load(
        &mut g,
        "wasmc_unchecked",
        &p.wasmc,
        common::load_wasmc_unchecked,
    );
    bench_load(&mut g, "wasmtime", &p.wasmtime, |path| {
        common::load_wasmtime(engine, path)
    });
    g.finish();

    let mut g = c.benchmark_group(format!("instantiate/{name}"));
    let artifact = common::load_wasmc(&p.wasmc);
    g.bench_function("wasmc", |b| {
        b.iter_custom(|iters| {
            timed_without_drop(iters, || {
                let mut store = wc::Store::new(());
                let instance = wc_linker.instantiate(&mut store, &artifact);
                (instance.expect("wasmc instantiate"), store)
            })
        })
    });
    let module = common::load_wasmtime(engine, &p.wasmtime);
    g.bench_function("wasmtime", |b| {
        b.iter_custom(|iters| {
            timed_without_drop(iters, || {
                let mut store = wt::Store::new(engine, ());
                let instance = wt_linker.instantiate(&mut store, &module);
                (instance.expect("wasmtime instantiate"), store)
            })
        })
    });
    g.finish();
}

/// One "load alone" line: artifact file to a loaded module, dropped untimed.
fn bench_load<O>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    path: &Path,
    load: impl Fn(&Path) -> O,
) {
    g.bench_function(id, |b| {
        b.iter_custom(|iters| timed_without_drop(iters, || load(path)))
    });
}

/// Groups 1 and 2: cold start of the trivial module and of the 1 MiB data module.
fn cold_start(c: &mut Criterion) {
    let engine = common::wasmtime_engine().expect("wasmtime engine");
    let scratch = Scratch::new("micro-cold").expect("scratch dir");
    let trivial = scratch
        .prepare(&engine, "trivial", common::TRIVIAL)
        .expect("preparing the trivial module");
    cold_start_family(c, &engine, "trivial", &trivial, common::TRIVIAL_RESULT);
    let data = scratch
        .prepare(&engine, "data_1mib", &common::data_1mib_wat())
        .expect("preparing the 1 MiB data module");
    cold_start_family(c, &engine, "data_1mib", &data, common::DATA_RESULT);
}

/// Largest loop count one `run(n)` call takes (its parameter is an `i32`).
const MAX_RUN: u64 = 1 << 30;

/// Group 3: Wasm -> host -> Wasm. One criterion iteration is one host call: the routine makes
/// a single `run(iters)` call, whose Wasm loop calls the host function `iters` times, so the
/// figure is the time per host call plus one loop iteration (a decrement, a branch and, in
/// wasmc, the loop header's epoch check); the one host-to-Wasm entry is spread over `iters`
/// calls and vanishes.
fn host_call(c: &mut Criterion) {
    let engine = common::wasmtime_engine().expect("wasmtime engine");
    let scratch = Scratch::new("micro-host").expect("scratch dir");
    let p = scratch
        .prepare(&engine, "host_loop", common::HOST_LOOP)
        .expect("preparing the host loop module");
    let mut g = c.benchmark_group("host_call/wasm_to_host");

    let artifact = common::load_wasmc(&p.wasmc);
    let mut linker = wc::Linker::<()>::new();
    linker
        .func_wrap("env", "h", |_: wc::Caller<'_, ()>, x: i32| {
            Ok(x.wrapping_add(1))
        })
        .expect("wasmc func_wrap");
    let mut store = wc::Store::new(());
    let instance = linker
        .instantiate(&mut store, &artifact)
        .expect("wasmc instantiate");
    let run = instance
        .get_typed_func::<i32, i32>(&store, "run")
        .expect("wasmc export run");
    g.bench_function("wasmc", |b| {
        b.iter_custom(|iters| looped(iters, |n| run.call(&mut store, n).expect("wasmc run")))
    });

    let module = common::load_wasmtime(&engine, &p.wasmtime);
    let mut linker = wt::Linker::<()>::new(&engine);
    linker
        .func_wrap("env", "h", |_: wt::Caller<'_, ()>, x: i32| {
            x.wrapping_add(1)
        })
        .expect("wasmtime func_wrap");
    let mut store = wt::Store::new(&engine, ());
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("wasmtime instantiate");
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .expect("wasmtime export run");
    g.bench_function("wasmtime", |b| {
        b.iter_custom(|iters| looped(iters, |n| run.call(&mut store, n).expect("wasmtime run")))
    });
    g.finish();
}

/// Times `run(n)` calls covering `iters` loop iterations in all, checking each result.
fn looped(iters: u64, mut run: impl FnMut(i32) -> i32) -> Duration {
    let mut left = iters;
    let mut total = Duration::ZERO;
    while left > 0 {
        let n = left.min(MAX_RUN);
        let n32 = i32::try_from(n).expect("n <= 2^30");
        let start = Instant::now();
        let got = run(black_box(n32));
        total += start.elapsed();
        assert_eq!(got, n32, "the host function was not called n times");
        left -= n;
    }
    total
}

/// Group 4: host -> Wasm calls of `add(i32, i32) -> i32`, one call per iteration, with the
/// typed API (`TypedFunc::call`) and the untyped one (`Func::call` over `Val` slices).
fn wasm_call(c: &mut Criterion) {
    let engine = common::wasmtime_engine().expect("wasmtime engine");
    let scratch = Scratch::new("micro-call").expect("scratch dir");
    let p = scratch
        .prepare(&engine, "add", common::ADD)
        .expect("preparing the add module");

    let artifact = common::load_wasmc(&p.wasmc);
    let mut wc_store = wc::Store::new(());
    let wc_instance = wc::Linker::new()
        .instantiate(&mut wc_store, &artifact)
        .expect("wasmc instantiate");
    let wc_typed = wc_instance
        .get_typed_func::<(i32, i32), i32>(&wc_store, "add")
        .expect("wasmc export add");
    let wc_func = wc_instance
        .get_func(&wc_store, "add")
        .expect("wasmc export add");

    let module = common::load_wasmtime(&engine, &p.wasmtime);
    let mut wt_store = wt::Store::new(&engine, ());
    let wt_instance = wt::Linker::new(&engine)
        .instantiate(&mut wt_store, &module)
        .expect("wasmtime instantiate");
    let wt_typed = wt_instance
        .get_typed_func::<(i32, i32), i32>(&mut wt_store, "add")
        .expect("wasmtime export add");
    let wt_func = wt_instance
        .get_func(&mut wt_store, "add")
        .expect("wasmtime export add");

    let mut g = c.benchmark_group("host_to_wasm/typed");
    g.bench_function("wasmc", |b| {
        b.iter(|| {
            wc_typed
                .call(&mut wc_store, black_box((20, 22)))
                .expect("wasmc call")
        })
    });
    g.bench_function("wasmtime", |b| {
        b.iter(|| {
            wt_typed
                .call(&mut wt_store, black_box((20, 22)))
                .expect("wasmtime call")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("host_to_wasm/untyped");
    g.bench_function("wasmc", |b| {
        let mut results = [wc::Val::I32(0)];
        b.iter(|| {
            let params = black_box([wc::Val::I32(20), wc::Val::I32(22)]);
            wc_func
                .call(&mut wc_store, &params, &mut results)
                .expect("wasmc call");
            results[0]
        })
    });
    g.bench_function("wasmtime", |b| {
        let mut results = [wt::Val::I32(0)];
        b.iter(|| {
            let params = black_box([wt::Val::I32(20), wt::Val::I32(22)]);
            wt_func
                .call(&mut wt_store, &params, &mut results)
                .expect("wasmtime call");
            results[0].unwrap_i32()
        })
    });
    g.finish();
}

/// How many pages one instance grows by before a fresh one replaces it: 64 MiB, well inside
/// the 4 GiB both engines reserve, so every grow takes the same in-place path.
const GROWS_PER_INSTANCE: u64 = 1000;

/// Group 5: `memory.grow` by one page from Wasm (`grow()`), per grow. Only the `grow()`
/// calls are timed; every [`GROWS_PER_INSTANCE`] grows the instance and its store are
/// replaced by fresh ones outside the clock. The figure includes the host-to-Wasm call
/// around each grow (compare with `host_to_wasm/typed`).
fn memory_grow(c: &mut Criterion) {
    let engine = common::wasmtime_engine().expect("wasmtime engine");
    let scratch = Scratch::new("micro-grow").expect("scratch dir");
    let p = scratch
        .prepare(&engine, "grow", common::GROW)
        .expect("preparing the grow module");
    let mut g = c.benchmark_group("memory_grow");

    let artifact = common::load_wasmc(&p.wasmc);
    let linker = wc::Linker::<()>::new();
    g.bench_function("wasmc", |b| {
        b.iter_custom(|iters| {
            in_fresh_instances(iters, || {
                let mut store = wc::Store::new(());
                let instance = linker
                    .instantiate(&mut store, &artifact)
                    .expect("wasmc instantiate");
                let grow = instance
                    .get_typed_func::<(), i32>(&store, "grow")
                    .expect("wasmc export grow");
                move || grow.call(&mut store, ()).expect("wasmc grow")
            })
        })
    });

    let module = common::load_wasmtime(&engine, &p.wasmtime);
    let linker = wt::Linker::<()>::new(&engine);
    g.bench_function("wasmtime", |b| {
        b.iter_custom(|iters| {
            in_fresh_instances(iters, || {
                let mut store = wt::Store::new(&engine, ());
                let instance = linker
                    .instantiate(&mut store, &module)
                    .expect("wasmtime instantiate");
                let grow = instance
                    .get_typed_func::<(), i32>(&mut store, "grow")
                    .expect("wasmtime export grow");
                move || grow.call(&mut store, ()).expect("wasmtime grow")
            })
        })
    });
    g.finish();
}

/// Times `iters` calls of `grow`, taking a fresh grower from `fresh` (untimed) every
/// [`GROWS_PER_INSTANCE`] calls and checking that each grow returned the expected old size.
fn in_fresh_instances<G: FnMut() -> i32>(iters: u64, mut fresh: impl FnMut() -> G) -> Duration {
    let mut left = iters;
    let mut total = Duration::ZERO;
    while left > 0 {
        let n = left.min(GROWS_PER_INSTANCE);
        let mut grow = fresh();
        let mut last = 0;
        let start = Instant::now();
        for _ in 0..n {
            last = black_box(grow());
        }
        total += start.elapsed();
        // The memory starts at one page: the n-th grow returns n.
        assert_eq!(
            u64::try_from(last).ok(),
            Some(n),
            "memory.grow failed or misreported"
        );
        drop(grow);
        left -= n;
    }
    total
}

/// Short defaults so the whole file runs in about 90 seconds; command-line flags override.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = micro;
    config = config();
    targets = cold_start, host_call, wasm_call, memory_grow
}
criterion_main!(micro);
