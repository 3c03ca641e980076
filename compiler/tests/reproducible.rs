//! Reproducible artifacts: the same module, options and target give byte-identical output,
//! whatever `Compiler` instance, thread or number of compilation threads produced it. The
//! whole-artifact checksum makes this strict: any difference anywhere would change it.

use std::sync::Arc;

use wasmc_compiler::{CompileOptions, Compiler, OptLevel, Target};

/// A module with enough functions to be spread over several compilation threads, and every
/// kind of section the artifact records (imports, tables, element and data segments, names).
fn module() -> Vec<u8> {
    let mut wat = String::from(
        r#"(module $repro
  (import "env" "log" (func $log (param i32)))
  (import "env" "g" (global $ig i32))
  (memory (export "mem") 1 10)
  (table $t 8 funcref)
  (global $g (mut i64) (i64.const 3))
  (data (i32.const 8) "reproducible bytes")
  (data $passive "later")
"#,
    );
    for i in 0..24 {
        wat.push_str(&format!(
            r#"  (func $f{i} (export "f{i}") (param i32 i64 f32 f64) (result i64)
    (local i32)
    (loop $l
      local.get 4 i32.const 1 i32.add local.tee 4
      local.get 0 i32.lt_u br_if $l)
    local.get 0 call $log
    local.get 2 f32.sqrt drop local.get 3 f64.floor drop
    local.get 1 global.get $g i64.mul i64.const {i} i64.add
    i32.const {addr} i64.load i64.add)
"#,
            addr = i * 8
        ));
    }
    wat.push_str("  (elem (i32.const 0) $f0 $f3 $f5 $f7 $f11)\n  (start $f0_start)\n");
    wat.push_str("  (func $f0_start global.get $ig call $log)\n)\n");
    wat::parse_str(&wat).expect("the test module parses")
}

fn compile_with(options: &CompileOptions, wasm: &[u8]) -> Vec<u8> {
    Compiler::new(options)
        .expect("a compiler for the target")
        .compile(wasm)
        .expect("the test module compiles")
}

#[test]
fn two_compilers_give_identical_bytes_for_every_target_and_level() {
    let wasm = module();
    for target in Target::ALL {
        for level in [OptLevel::None, OptLevel::Speed] {
            let options = CompileOptions::new().target(target).opt_level(level);
            let a = compile_with(&options, &wasm);
            let b = compile_with(&options, &wasm);
            assert!(a == b, "{target} {level:?}: two compilations differ");
        }
    }
}

#[test]
fn compilations_on_many_threads_give_identical_bytes() {
    let wasm = Arc::new(module());
    let options = CompileOptions::new();
    let reference = compile_with(&options, &wasm);
    let shared = Arc::new(Compiler::new(&options).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let wasm = Arc::clone(&wasm);
            let shared = Arc::clone(&shared);
            let options = options.clone();
            std::thread::spawn(move || {
                // Alternate a shared compiler and a fresh one per thread.
                if i % 2 == 0 {
                    shared.compile(&wasm).unwrap()
                } else {
                    compile_with(&options, &wasm)
                }
            })
        })
        .collect();
    for t in threads {
        let bytes = t.join().expect("a compiling thread panicked");
        assert!(
            bytes == reference,
            "a compilation on another thread differs"
        );
    }
}

#[test]
fn different_options_give_different_checksums() {
    // The converse, so the tests above cannot pass by ignoring their input: options that
    // change the code change the bytes.
    let wasm = module();
    let speed = compile_with(&CompileOptions::new().opt_level(OptLevel::Speed), &wasm);
    let none = compile_with(&CompileOptions::new().opt_level(OptLevel::None), &wasm);
    assert!(speed != none);
}
