//! The `differential` target: a wasm-smith module run in wasmc and in wasmi (the oracle) must
//! behave the same.
//!
//! The module uses only the features wasmc supports, canonicalises NaNs (so float results are
//! deterministic bit patterns) and has a fuel counter that traps with `unreachable` when loops
//! or calls run too long (wasm-smith's `ensure_termination`). Everything is exported and
//! nothing imported. Both engines instantiate it (including its start function), then every
//! exported function is called in order, with the same arguments drawn from the input, and
//! after every call the results or trap, every exported global, memory and table size must
//! agree. A stack overflow on either side makes the rest of the run inconclusive (the engines
//! have different stack limits) and stops the comparison there.

use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::{Arbitrary, Unstructured};
use wasmc_abi::TrapCode;
use wasmc_loader as wc;

use crate::{smith_module, supported_config};

/// Counts of what the comparisons covered, for the smoke test's report and for judging
/// whether a configuration still reaches calls and traps.
#[derive(Debug, Default)]
pub struct Stats {
    /// Modules instantiated in both engines.
    pub instantiated: AtomicUsize,
    /// Calls compared.
    pub calls: AtomicUsize,
    /// Calls that trapped in both engines, with the same code.
    pub traps: AtomicUsize,
    /// Runs cut short by a stack overflow on either side.
    pub inconclusive: AtomicUsize,
}

/// The process's [`Stats`].
pub static STATS: Stats = Stats {
    instantiated: AtomicUsize::new(0),
    calls: AtomicUsize::new(0),
    traps: AtomicUsize::new(0),
    inconclusive: AtomicUsize::new(0),
};

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Fuel each module starts with: bounds loop iterations and call depth (wasmi's default
/// recursion limit is 1000 frames).
const FUEL: u32 = 500;

/// What a call gave, in engine-neutral terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Returned these values.
    Values(Vec<Value>),
    /// Trapped with this code.
    Trap(TrapCode),
}

/// A value, compared by bits, with every NaN equal to every other (the module canonicalises
/// NaNs it computes, but may pass on a non-canonical NaN it was given) and references
/// compared only by nullness (identities differ between engines).
#[derive(Debug, Clone, Copy)]
pub enum Value {
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `f32` bits.
    F32(u32),
    /// `f64` bits.
    F64(u64),
    /// A reference; `true` if null.
    Ref(bool),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (*self, *other) {
            (Value::I32(a), Value::I32(b)) => a == b,
            (Value::I64(a), Value::I64(b)) => a == b,
            (Value::F32(a), Value::F32(b)) => {
                a == b || (f32::from_bits(a).is_nan() && f32::from_bits(b).is_nan())
            }
            (Value::F64(a), Value::F64(b)) => {
                a == b || (f64::from_bits(a).is_nan() && f64::from_bits(b).is_nan())
            }
            (Value::Ref(a), Value::Ref(b)) => a == b,
            _ => false,
        }
    }
}

/// The one place trap codes of the two engines meet: wasmi's code as wasmc's. `None` for
/// codes wasmc has no equivalent for (resource limits wasmi enforces and wasmc does not).
pub fn wasmi_trap(code: wasmi::TrapCode) -> Option<TrapCode> {
    use wasmi::TrapCode as W;
    Some(match code {
        W::UnreachableCodeReached => TrapCode::UnreachableCodeReached,
        W::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        // wasmi reports a `call_indirect` index past the table's end as an out-of-bounds
        // table access; the spec (and wasmc) call it "undefined element". The two are told
        // apart in `same_trap`.
        W::TableOutOfBounds => TrapCode::TableOutOfBounds,
        W::IndirectCallToNull => TrapCode::IndirectCallToNull,
        W::IntegerDivisionByZero => TrapCode::IntegerDivisionByZero,
        W::IntegerOverflow => TrapCode::IntegerOverflow,
        W::BadConversionToInteger => TrapCode::BadConversionToInteger,
        W::StackOverflow => TrapCode::StackOverflow,
        W::BadSignature => TrapCode::BadSignature,
        W::OutOfFuel => TrapCode::OutOfFuel,
        _ => return None,
    })
}

/// wasmi's error as a wasmc trap code: its trap codes through [`wasmi_trap`], and the errors
/// wasmi raises instead of a trap for segments that do not fit at instantiation (the spec
/// says they trap: an active segment is a `table.init`/`memory.init`). `None` for anything
/// else.
pub fn wasmi_error_trap(e: &wasmi::Error) -> Option<TrapCode> {
    use wasmi::errors::{ErrorKind as K, InstantiationError, MemoryError, TableError};
    match e.kind() {
        K::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. }) => {
            Some(TrapCode::TableOutOfBounds)
        }
        K::Table(
            TableError::InitOutOfBounds
            | TableError::FillOutOfBounds
            | TableError::SetOutOfBounds
            | TableError::CopyOutOfBounds,
        ) => Some(TrapCode::TableOutOfBounds),
        K::Memory(MemoryError::OutOfBoundsAccess) => Some(TrapCode::MemoryOutOfBounds),
        _ => e.as_trap_code().and_then(wasmi_trap),
    }
}

/// Whether two trap codes (wasmc's, wasmi's mapped by [`wasmi_trap`]) mean the same trap.
fn same_trap(wasmc: TrapCode, wasmi: TrapCode) -> bool {
    wasmc == wasmi || (wasmc == TrapCode::UndefinedElement && wasmi == TrapCode::TableOutOfBounds)
}

fn same_outcome(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Values(x), Outcome::Values(y)) => x == y,
        (Outcome::Trap(x), Outcome::Trap(y)) => same_trap(*x, *y),
        _ => false,
    }
}

fn from_wasmc(v: &wc::Val) -> Value {
    match v {
        wc::Val::I32(x) => Value::I32(*x),
        wc::Val::I64(x) => Value::I64(*x),
        wc::Val::F32(x) => Value::F32(*x),
        wc::Val::F64(x) => Value::F64(*x),
        wc::Val::FuncRef(f) => Value::Ref(f.is_none()),
        wc::Val::ExternRef(r) => Value::Ref(r.is_none()),
        // SIMD is not generated (`supported_config`).
        wc::Val::V128(_) => unreachable!("v128 values are not generated"),
    }
}

fn from_wasmi(v: &wasmi::Val) -> Value {
    match v {
        wasmi::Val::I32(x) => Value::I32(*x),
        wasmi::Val::I64(x) => Value::I64(*x),
        wasmi::Val::F32(x) => Value::F32(x.to_bits()),
        wasmi::Val::F64(x) => Value::F64(x.to_bits()),
        wasmi::Val::FuncRef(f) => Value::Ref(f.is_null()),
        wasmi::Val::ExternRef(r) => Value::Ref(r.is_null()),
        wasmi::Val::V128(_) => unreachable!("v128 values are not generated"),
    }
}

fn wasmc_outcome(r: Result<Vec<wc::Val>, wc::Error>) -> Outcome {
    match r {
        Ok(v) => Outcome::Values(v.iter().map(from_wasmc).collect()),
        Err(e) => match e.trap_code() {
            Some(c) => Outcome::Trap(c),
            None => panic!("wasmc failed without a trap: {e}"),
        },
    }
}

fn wasmi_outcome(r: Result<Vec<wasmi::Val>, wasmi::Error>) -> Outcome {
    match r {
        Ok(v) => Outcome::Values(v.iter().map(from_wasmi).collect()),
        Err(e) => match wasmi_error_trap(&e) {
            Some(c) => Outcome::Trap(c),
            None => panic!("wasmi failed without a comparable trap: {e}"),
        },
    }
}

/// An argument of the given type, the same for both engines.
fn argument(u: &mut Unstructured<'_>, ty: wc::ValType) -> (wc::Val, wasmi::Val) {
    use wc::ValType as T;
    match ty {
        T::I32 => {
            let x = small_or_any_i64(u) as i32;
            (wc::Val::I32(x), wasmi::Val::I32(x))
        }
        T::I64 => {
            let x = small_or_any_i64(u);
            (wc::Val::I64(x), wasmi::Val::I64(x))
        }
        T::F32 => {
            let x = f32::from_bits(u.arbitrary().unwrap_or(0)).to_bits();
            (wc::Val::F32(x), wasmi::Val::F32(wasmi::F32::from_bits(x)))
        }
        T::F64 => {
            let x: u64 = u.arbitrary().unwrap_or(0);
            (wc::Val::F64(x), wasmi::Val::F64(wasmi::F64::from_bits(x)))
        }
        T::FuncRef => (
            wc::Val::FuncRef(None),
            wasmi::Val::FuncRef(wasmi::Ref::Null),
        ),
        T::ExternRef => (
            wc::Val::ExternRef(None),
            wasmi::Val::ExternRef(wasmi::Ref::Null),
        ),
        T::V128 => unreachable!("v128 parameters are not generated"),
    }
}

/// Mostly small numbers (addresses, counts, table indices), sometimes any.
fn small_or_any_i64(u: &mut Unstructured<'_>) -> i64 {
    match u.arbitrary::<u8>().unwrap_or(0) % 4 {
        0 => u.arbitrary().unwrap_or(0),
        _ => i64::from(u.int_in_range(-2i8..=100).unwrap_or(0)),
    }
}

/// The two engines' views of one instance.
struct Pair {
    wc_store: wc::Store<()>,
    wc_inst: wc::Instance,
    wi_store: wasmi::Store<()>,
    wi_inst: wasmi::Instance,
}

impl Pair {
    /// Compares every exported global, memory and table; panics on a difference.
    fn compare_state(
        &mut self,
        exports: &[(String, wasmc_abi::metadata::ExternKind)],
        after: &str,
    ) {
        use wasmc_abi::metadata::ExternKind as K;
        for (name, kind) in exports {
            match kind {
                K::Global => {
                    let a = self
                        .wc_inst
                        .get_global(&self.wc_store, name)
                        .expect("global");
                    let b = self
                        .wi_inst
                        .get_global(&self.wi_store, name)
                        .expect("global");
                    let (a, b) = (
                        from_wasmc(&a.get(&self.wc_store)),
                        from_wasmi(&b.get(&self.wi_store)),
                    );
                    assert_eq!(a, b, "global {name:?} differs after {after}");
                }
                K::Memory => {
                    let a = self
                        .wc_inst
                        .get_memory(&self.wc_store, name)
                        .expect("memory");
                    let b = self
                        .wi_inst
                        .get_memory(&self.wi_store, name)
                        .expect("memory");
                    let (a, b) = (a.data(&self.wc_store), b.data(&self.wi_store));
                    assert_eq!(
                        a.len(),
                        b.len(),
                        "memory {name:?} size differs after {after}"
                    );
                    if let Some(i) = a.iter().zip(b).position(|(x, y)| x != y) {
                        panic!(
                            "memory {name:?} differs after {after} at byte {i:#x}: wasmc {:#04x}, wasmi {:#04x}",
                            a[i], b[i]
                        );
                    }
                }
                K::Table => {
                    let a = self.wc_inst.get_table(&self.wc_store, name).expect("table");
                    let b = self.wi_inst.get_table(&self.wi_store, name).expect("table");
                    assert_eq!(
                        a.size(&self.wc_store),
                        b.size(&self.wi_store),
                        "table {name:?} size differs after {after}"
                    );
                }
                K::Func => {}
            }
        }
    }
}

/// Runs one input; panics when the engines disagree. Returns whether a module was built and
/// compared.
pub fn run(data: &[u8]) -> bool {
    let mut u = Unstructured::new(data);
    let Ok(config) = wasm_smith::Config::arbitrary(&mut u) else {
        return false;
    };
    let mut config = supported_config(config);
    config.canonicalize_nans = true;
    config.export_everything = true;
    config.max_imports = 0;
    config.min_funcs = config.min_funcs.max(1);
    // wasm-smith asserts min <= max (found by this target: docs/FUZZING.md, harness bug).
    config.max_funcs = config.max_funcs.max(config.min_funcs);
    let Some(mut module) = smith_module(config, &mut u) else {
        return false;
    };
    if module.ensure_termination(FUEL).is_err() {
        return false;
    }
    let wasm = module.to_bytes();
    crate::dump(&wasm);
    run_wasm(&wasm, &mut u);
    true
}

/// Compares the two engines on `wasm`, drawing call arguments from `u`.
pub fn run_wasm(wasm: &[u8], u: &mut Unstructured<'_>) {
    let artifact_bytes = match wasmc_compiler::compile(wasm) {
        Ok(b) => b,
        Err(e) => panic!("wasmc does not compile a supported wasm-smith module: {e}"),
    };
    // SAFETY: the bytes were just produced by our own compiler for this host.
    let artifact = unsafe { wc::Artifact::from_bytes(&artifact_bytes) }
        .unwrap_or_else(|e| panic!("wasmc refuses its own artifact: {e}"));

    let engine = wasmi::Engine::default();
    let wi_module = match wasmi::Module::new(&engine, wasm) {
        Ok(m) => m,
        // The oracle refusing a module wasmc compiled would be a finding about one of them,
        // but wasmi's validator differs in feature gating details; skip such modules.
        Err(_) => return,
    };
    let mut wi_store = wasmi::Store::new(&engine, ());
    let wi = wasmi::Linker::<()>::new(&engine).instantiate_and_start(&mut wi_store, &wi_module);
    let mut wc_store = wc::Store::new(());
    let wc = wc::Linker::new().instantiate(&mut wc_store, &artifact);
    let (wc_inst, wi_inst) = match (wc, wi) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(b)) => {
            let a = wasmc_outcome(Err(a));
            let b = wasmi_outcome(Err(b));
            if is_stack_overflow(&a) || is_stack_overflow(&b) {
                return;
            }
            assert!(
                same_outcome(&a, &b),
                "instantiation fails differently: wasmc {a:?}, wasmi {b:?}"
            );
            return;
        }
        (Ok(_), Err(b)) => {
            let b = wasmi_outcome(Err(b));
            if is_stack_overflow(&b) {
                return;
            }
            panic!("instantiation: wasmc succeeds, wasmi fails with {b:?}")
        }
        (Err(a), Ok(_)) => {
            let a = wasmc_outcome(Err(a));
            if is_stack_overflow(&a) {
                return;
            }
            panic!("instantiation: wasmi succeeds, wasmc fails with {a:?}")
        }
    };
    let mut pair = Pair {
        wc_store,
        wc_inst,
        wi_store,
        wi_inst,
    };
    let exports: Vec<(String, wasmc_abi::metadata::ExternKind)> = artifact
        .exports()
        .iter()
        .map(|e| (e.name.clone(), e.kind))
        .collect();
    pair.compare_state(&exports, "instantiation");
    bump(&STATS.instantiated);

    for (name, kind) in &exports {
        if *kind != wasmc_abi::metadata::ExternKind::Func {
            continue;
        }
        let wc_func = pair.wc_inst.get_func(&pair.wc_store, name).expect("func");
        let wi_func = pair.wi_inst.get_func(&pair.wi_store, name).expect("func");
        let ty = wc_func.ty(&pair.wc_store);
        let (wc_args, wi_args): (Vec<wc::Val>, Vec<wasmi::Val>) =
            ty.params.iter().map(|t| argument(u, *t)).unzip();
        let mut wc_results: Vec<wc::Val> = ty.results.iter().map(|_| wc::Val::I32(0)).collect();
        let mut wi_results: Vec<wasmi::Val> =
            ty.results.iter().map(|_| wasmi::Val::I32(0)).collect();
        let a = wasmc_outcome(
            wc_func
                .call(&mut pair.wc_store, &wc_args, &mut wc_results)
                .map(|()| wc_results),
        );
        let b = wasmi_outcome(
            wi_func
                .call(&mut pair.wi_store, &wi_args, &mut wi_results)
                .map(|()| wi_results),
        );
        if is_stack_overflow(&a) || is_stack_overflow(&b) {
            bump(&STATS.inconclusive);
            return;
        }
        assert!(
            same_outcome(&a, &b),
            "calling {name:?} with {wc_args:?}: wasmc {a:?}, wasmi {b:?}"
        );
        pair.compare_state(&exports, &format!("calling {name:?}"));
        bump(&STATS.calls);
        if matches!(a, Outcome::Trap(_)) {
            bump(&STATS.traps);
        }
    }
}

fn is_stack_overflow(o: &Outcome) -> bool {
    matches!(o, Outcome::Trap(TrapCode::StackOverflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke() {
        let n = crate::smoke(0xd1ff, 120, 4096, run);
        assert!(n >= 80, "only {n} of 120 inputs built a module");
        eprintln!("{STATS:?}");
        assert!(
            STATS.calls.load(Ordering::Relaxed) > 0,
            "no call was compared"
        );
    }

    #[test]
    fn a_config_with_no_functions_allowed_is_fixed_up() {
        // Fuzzer-found input (docs/FUZZING.md, harness bug 2): `max_funcs` 0 with the
        // harness's `min_funcs` 1 tripped wasm-smith's `max >= min` assertion.
        let mut input = vec![1u8];
        input.extend([0u8; 72]);
        input.extend([65, 47]);
        let _ = run(&input);
    }

    #[test]
    fn segments_that_do_not_fit_trap_in_both_engines() {
        // Fuzzer-found (docs/FUZZING.md, harness bug 3): wasmi reports an active element
        // segment out of bounds as an instantiation error, not a trap; the harness maps it.
        for wat in [
            r#"(module (table 10 funcref) (elem (i32.const -1) func))"#,
            r#"(module (table 10 funcref) (func $f) (elem (i32.const 10) $f))"#,
            r#"(module (memory 1) (data (i32.const -1) ""))"#,
            r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
        ] {
            let wasm = wat::parse_str(wat).unwrap();
            run_wasm(&wasm, &mut Unstructured::new(&[]));
        }
    }

    #[test]
    fn the_engines_agree_on_a_known_module() {
        let wasm = wat::parse_str(
            r#"(module
                (memory (export "m") 1 1)
                (global (export "g") (mut i32) (i32.const 0))
                (func (export "div") (param i32 i32) (result i32)
                  local.get 0 global.set 0
                  local.get 0 i32.const 8 i32.store
                  local.get 0 local.get 1 i32.div_s)
                ;; wasmi 2.0.0 returns 1 here (docs/FUZZING.md, oracle bug A); the answer is 5.
                (func (export "select_eqz") (result i32) (local i32)
                  i32.const 5 local.set 0
                  i32.const 1 local.get 0 local.get 0 i32.eqz select))"#,
        )
        .unwrap();
        // Arguments (small_or_any_i64): selector byte 1 then a byte for the value.
        run_wasm(&wasm, &mut Unstructured::new(&[1, 40, 1, 2]));
        run_wasm(&wasm, &mut Unstructured::new(&[1, 40, 1, 0]));
        run_wasm(&wasm, &mut Unstructured::new(&[0; 32]));
    }

    #[test]
    fn a_difference_is_reported() {
        // The comparison itself: different values or traps differ, NaNs agree with NaNs,
        // and wasmi's name for a call past the table's end matches wasmc's.
        let a = Outcome::Values(vec![Value::I32(1)]);
        let b = Outcome::Values(vec![Value::I32(2)]);
        assert!(!same_outcome(&a, &b));
        assert!(same_outcome(
            &Outcome::Values(vec![Value::F32(0x7fc0_0000)]),
            &Outcome::Values(vec![Value::F32(0xffc0_0001)])
        ));
        assert!(same_outcome(
            &Outcome::Trap(TrapCode::UndefinedElement),
            &Outcome::Trap(wasmi_trap(wasmi::TrapCode::TableOutOfBounds).unwrap())
        ));
        assert!(!same_outcome(
            &Outcome::Trap(TrapCode::MemoryOutOfBounds),
            &Outcome::Trap(TrapCode::TableOutOfBounds)
        ));
    }
}
