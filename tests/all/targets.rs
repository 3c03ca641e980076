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
