//! Bad input to the compiler, one class per test (docs/BAD_INPUT.md): proposals wasmc does not
//! compile are refused with an error that names the problem and where it is, never a panic,
//! and malformed or invalid binaries name the byte offset.

use wasmc_compiler::CompileError;

fn compile(wasm: &[u8]) -> Result<Vec<u8>, CompileError> {
    wasmc_compiler::compile(wasm)
}

/// Binaries of proposals that are not in WebAssembly 2.0 and that wasmc does not compile.
/// (Written in WAT, which knows every proposal.)
const PROPOSALS: &[(&str, &str)] = &[
    (
        "threads",
        r#"(module (memory 1 1 shared)
             (func (result i32) i32.const 0 i32.const 1 i32.atomic.rmw.add))"#,
    ),
    (
        "exceptions",
        r#"(module (tag $e (param i32)) (func i32.const 1 throw $e))"#,
    ),
    (
        "gc",
        r#"(module (type $s (struct (field i32))) (func (result (ref $s)) i32.const 1 struct.new $s))"#,
    ),
    (
        "function references",
        r#"(module (type $t (func)) (func (param (ref $t)) local.get 0 call_ref $t))"#,
    ),
    (
        "wide arithmetic",
        r#"(module (func (param i64 i64 i64 i64) (result i64 i64)
             local.get 0 local.get 1 local.get 2 local.get 3 i64.add128))"#,
    ),
];

#[test]
fn unsupported_proposals_are_refused_with_a_reason() {
    for (name, wat) in PROPOSALS {
        let wasm = wat::parse_str(wat).unwrap_or_else(|e| panic!("{name}: {e}"));
        match compile(&wasm) {
            Err(e @ (CompileError::Invalid { .. } | CompileError::Unsupported { .. })) => {
                // The message names the proposal, so the user knows what to switch off in
                // their toolchain ("gc" for the GC proposal's types, and so on).
                let msg = e.to_string().to_lowercase();
                assert!(
                    msg.contains(name),
                    "{name}: the error does not name it: {msg:?}"
                );
            }
            Ok(_) => panic!("{name}: compiled, but wasmc does not support it"),
            Err(e) => panic!("{name}: refused with the wrong kind of error: {e}"),
        }
    }
}

#[test]
fn malformed_binaries_name_the_offset() {
    let good = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
    // Every truncation of a valid module is a smaller valid module (cut at a section
    // boundary) or refused as invalid with the offset; never another error or a panic.
    for n in 0..good.len() {
        match compile(&good[..n]) {
            Ok(_) => {}
            Err(e @ CompileError::Invalid { .. }) => {
                assert!(e.to_string().contains("offset"), "prefix of {n} bytes: {e}");
            }
            Err(e) => panic!("prefix of {n} bytes: expected Invalid, got {e}"),
        }
    }
    assert!(compile(&good[..good.len() - 1]).is_err());
    // Not Wasm at all.
    let e = compile(b"(module)").unwrap_err();
    assert!(matches!(e, CompileError::Invalid { .. }), "{e}");
    // A body that does not type-check names its offset.
    let bad = wat::parse_str(r#"(module (func (result i32) i64.const 1))"#).unwrap();
    let e = compile(&bad).unwrap_err();
    assert!(e.to_string().contains("offset"), "{e}");
}

#[test]
fn names_with_nul_bytes_compile_for_every_target() {
    // Found by the `compile` fuzz target (docs/FUZZING.md, bug 1): Wasm names may contain
    // U+0000, object files' string tables may not; the writer panicked in `object`.
    let wasm = wat::parse_str(
        r#"(module
             (import "\00" "" (func))
             (import "m\00" "f\00g" (func))
             (func (@name "a\00b") (export "x\00y")))"#,
    )
    .unwrap();
    for target in wasmc_compiler::Target::ALL {
        let compiler =
            wasmc_compiler::Compiler::new(&wasmc_compiler::CompileOptions::new().target(target))
                .unwrap();
        let bytes = compiler
            .compile(&wasm)
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        assert!(!bytes.is_empty());
    }
}
