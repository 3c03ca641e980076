//! The `compile` target: wasm-smith modules always compile or are refused with an error,
//! never a panic.
//!
//! The first input byte picks the mode. With any wasm-smith configuration (every proposal it
//! knows), compiling gives an artifact or an `Invalid`/`Unsupported` error; a `Codegen` error
//! is a wasmc bug. With a configuration of only the features wasmc supports, compiling must
//! succeed. Either way a produced artifact must describe itself (`ArtifactInfo::parse`, which
//! checks the checksum and every offset without mapping anything) for the target it was built
//! for, and the module's exports must be the ones recorded.

use arbitrary::{Arbitrary, Unstructured};
use wasmc_compiler::{CompileError, CompileOptions, Compiler, OptLevel, Target};
use wasmc_loader::ArtifactInfo;

use crate::{smith_module, supported_config};

/// Runs one input; panics on a bug. Returns whether a module was built and compiled.
pub fn run(data: &[u8]) -> bool {
    let mut u = Unstructured::new(data);
    let Ok(mode) = u.arbitrary::<u8>() else {
        return false;
    };
    let Ok(config) = wasm_smith::Config::arbitrary(&mut u) else {
        return false;
    };
    let supported_only = mode & 1 == 0;
    let config = if supported_only {
        supported_config(config)
    } else {
        config
    };
    let Some(module) = smith_module(config, &mut u) else {
        return false;
    };
    let wasm = module.to_bytes();
    crate::dump(&wasm);
    // Cross-target compiles cover the aarch64 and Mach-O writers too.
    let target = Target::ALL[usize::from(mode >> 1) % Target::ALL.len()];
    let level = if mode & 0x80 == 0 {
        OptLevel::Speed
    } else {
        OptLevel::None
    };
    let compiler = Compiler::new(&CompileOptions::new().target(target).opt_level(level))
        .expect("a compiler for every supported target");
    match compiler.compile(&wasm) {
        Ok(bytes) => check_artifact(&bytes, target, &wasm),
        Err(e @ (CompileError::Invalid { .. } | CompileError::Unsupported { .. }))
            if !supported_only =>
        {
            let _ = e.to_string();
        }
        Err(e) => panic!(
            "compiling a wasm-smith module for {target} failed (supported features only: \
             {supported_only}): {e}"
        ),
    }
    true
}

fn check_artifact(bytes: &[u8], target: Target, wasm: &[u8]) {
    let info = ArtifactInfo::parse(bytes)
        .unwrap_or_else(|e| panic!("the artifact just compiled for {target} is refused: {e}"));
    assert_eq!(info.header.target, target);
    let exports: Vec<&str> = wasmparser::Parser::new(0)
        .parse_all(wasm)
        .filter_map(Result::ok)
        .filter_map(|p| match p {
            wasmparser::Payload::ExportSection(s) => Some(s),
            _ => None,
        })
        .flat_map(|s| s.into_iter().filter_map(Result::ok).map(|e| e.name))
        .collect();
    let recorded: Vec<&str> = info.meta.exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exports, recorded, "the artifact records other exports");
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_import_name_with_a_nul_byte_compiles() {
        // Fuzzer-found input (docs/FUZZING.md, bug 1): a module importing from module "\0"
        // made the object writer panic. `compiler/tests/bad_input.rs` has the direct test.
        let input: &[u8] = &[
            9, 216, 216, 216, 216, 216, 216, 216, 216, 216, 47, 42, 125, 41, 0, 255, 255, 255, 255,
            255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 206, 255, 255, 255, 255,
            253, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0, 216, 216, 216,
            0, 0, 0, 0, 83, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0, 253, 0, 0, 0, 0, 216,
        ];
        assert!(super::run(input));
    }

    #[test]
    fn smoke() {
        let n = crate::smoke(0xc0a1, 150, 4096, super::run);
        assert!(n >= 100, "only {n} of 150 inputs built a module");
    }
}
