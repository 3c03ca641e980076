//! Artifacts for every target parse back as objects of the right format and architecture,
//! with the wasmc sections, no relocations and no undefined symbols, and metadata that
//! describes the module.

use object::{Object, ObjectSection, ObjectSymbol};
use wasmc_abi::metadata::{ArtifactHeader, ExternKind, ImportKind, ModuleMetadata, NONE};
use wasmc_abi::{Target, obj};
use wasmc_compiler::{CompileError, CompileOptions, Compiler, OptLevel};

fn compile(target: Target, wat: &str) -> Result<Vec<u8>, CompileError> {
    let wasm = wat::parse_str(wat).expect("test WAT parses");
    Compiler::new(
        &CompileOptions::new()
            .target(target)
            .opt_level(OptLevel::Speed),
    )?
    .compile(&wasm)
}

const MODULE: &str = r#"
(module
  (type $t (func (param i32) (result i32)))
  (import "env" "f" (func $imp (param i32) (result i32)))
  (func $id (export "id") (param i32) (result i32) local.get 0)
  (func $callee (param i32 i64) (result i64 i32) local.get 1 local.get 0)
  (func $caller (export "caller") (param i32) (result i32)
    (local i32)
    local.get 0
    call $imp
    local.set 1
    local.get 1
    call $id)
  (func $internal (param i32) (result i32) local.get 0 return)
  (func $multi (export "multi") (param i32 i64) (result i64 i32)
    local.get 0 local.get 1 call $callee drop drop
    local.get 0 local.get 1 call $callee drop local.get 0)
)
"#;

fn section<'a>(file: &'a object::File<'a>, target: Target, elf: &str) -> object::Section<'a, 'a> {
    let name = if target.is_macho() {
        obj::macho_section(elf).unwrap().1
    } else {
        elf
    };
    file.section_by_name(name)
        .unwrap_or_else(|| panic!("{target}: no section {name}"))
}

#[test]
fn every_target_yields_a_clean_object() {
    for target in Target::ALL {
        let bytes = compile(target, MODULE).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let expected_format = if target.is_macho() {
            object::BinaryFormat::MachO
        } else {
            object::BinaryFormat::Elf
        };
        assert_eq!(file.format(), expected_format, "{target}");
        let expected_arch = if target.is_aarch64() {
            object::Architecture::Aarch64
        } else {
            object::Architecture::X86_64
        };
        assert_eq!(file.architecture(), expected_arch, "{target}");
        for s in file.sections() {
            assert_eq!(
                s.relocations().count(),
                0,
                "{target}: relocations in {:?}",
                s.name()
            );
        }
        for sym in file.symbols() {
            assert!(
                !sym.is_undefined(),
                "{target}: undefined symbol {:?}",
                sym.name()
            );
        }
        let text = section(&file, target, obj::TEXT_SECTION);
        assert_eq!(text.align(), target.text_align(), "{target}");
        assert!(!text.data().unwrap().is_empty());

        let hdr =
            ArtifactHeader::decode(section(&file, target, obj::HEADER_SECTION).data().unwrap())
                .unwrap();
        assert_eq!(hdr.target, target);
        assert_eq!(hdr.layout_hash, wasmc_abi::vmoffsets::layout_hash());
        assert_eq!(hdr.memory_guard, wasmc_compiler::MEMORY_GUARD);
        let meta_bytes = section(&file, target, obj::META_SECTION).data().unwrap();
        assert_eq!(hdr.meta_hash, wasmc_abi::metadata::Fnv64::hash(meta_bytes));
        let meta = ModuleMetadata::decode(meta_bytes).unwrap();
        assert_eq!(meta.imports.len(), 1);
        assert_eq!(meta.imports[0].module, "env");
        assert!(matches!(meta.imports[0].kind, ImportKind::Func(_)));
        assert_eq!(meta.functions.len(), 6);
        assert_eq!(meta.defined_funcs.len(), 5);
        // Exported: id (1), caller (3), multi (5).
        assert_eq!(meta.escaped_funcs, vec![1, 3, 5]);
        let names: Vec<_> = meta.exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["id", "caller", "multi"]);
        assert!(meta.exports.iter().all(|e| e.kind == ExternKind::Func));
        let text_len = text.data().unwrap().len() as u32;
        for (i, f) in meta.defined_funcs.iter().enumerate() {
            assert!(f.text_off + f.text_len <= text_len);
            let escaped = meta.escaped_funcs.contains(&(i as u32 + 1));
            assert_eq!(f.entry_off != NONE, escaped, "{target}: func {}", i + 1);
            assert_eq!(f.func_ref_slot != NONE, escaped);
        }
        assert!(
            meta.host_trampolines
                .iter()
                .all(|o| *o != NONE && *o < text_len)
        );
        let sym_names: Vec<String> = file
            .symbols()
            .filter_map(|s| s.name().ok().map(str::to_string))
            .collect();
        assert!(
            sym_names.iter().any(|n| n.ends_with(obj::HEADER_SYMBOL)),
            "{target}"
        );
        assert!(
            sym_names.iter().any(|n| n.contains("wasmc_import.env.f")),
            "{target}"
        );
    }
}

#[test]
fn invalid_wasm_reports_an_offset() {
    let err = Compiler::new(&CompileOptions::new().target(Target::X86_64Linux))
        .unwrap()
        .compile(b"\0asm\x01\0\0\0\x01\x04\x01\x60\x00")
        .unwrap_err();
    assert!(matches!(err, CompileError::Invalid { .. }), "{err}");
    let body_err = compile(
        Target::X86_64Linux,
        r#"(module (func (result i32) (local i64) local.get 0))"#,
    );
    // wat does not type-check, the validator does.
    match body_err {
        Err(CompileError::Invalid { message, offset }) => {
            assert!(message.contains("type mismatch"), "{message}");
            assert!(offset > 8);
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn simd_compiles_and_can_be_switched_off() {
    for wat in [
        r#"(module (func (param v128)))"#,
        r#"(module (func (local v128)))"#,
        r#"(module (func (result i32) v128.const i64x2 0 0 i32x4.extract_lane 0))"#,
    ] {
        for target in Target::ALL {
            if let Err(e) = compile(target, wat) {
                panic!("{wat}: {}: {e}", target.triple());
            }
        }
        let off = CompileOptions::new()
            .target(Target::X86_64Linux)
            .wasm_feature(wasmc_compiler::WasmFeature::Simd, false);
        match Compiler::new(&off)
            .unwrap()
            .compile(&wat::parse_str(wat).unwrap())
        {
            Err(CompileError::Invalid { message, .. }) => {
                assert!(
                    message.contains("`simd` proposal is switched off"),
                    "{message}"
                )
            }
            other => panic!("{wat}: expected Invalid, got {other:?}"),
        }
    }
}

/// The trap records of an x86_64 artifact, by code.
fn trap_codes(wat: &str) -> Vec<wasmc_abi::TrapCode> {
    trap_codes_with(CompileOptions::new(), wat)
}

/// The trap codes of an x86_64 artifact of `wat` compiled with `options`.
fn trap_codes_with(options: CompileOptions, wat: &str) -> Vec<wasmc_abi::TrapCode> {
    let wasm = wat::parse_str(wat).expect("test WAT parses");
    let bytes = Compiler::new(&options.target(Target::X86_64Linux))
        .unwrap()
        .compile(&wasm)
        .unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let table = section(&file, Target::X86_64Linux, obj::TRAPS_SECTION)
        .data()
        .unwrap()
        .to_vec();
    wasmc_abi::metadata::validate_trap_table(&table).unwrap();
    let n = u32::from_le_bytes(table[0..4].try_into().unwrap()) as usize;
    table[4 + 4 * n..]
        .iter()
        .map(|b| wasmc_abi::TrapCode::from_u8(*b).unwrap())
        .collect()
}

/// How many trap records of kind `code` an x86_64 artifact of `wat` has.
fn count_traps(wat: &str, code: wasmc_abi::TrapCode) -> usize {
    trap_codes(wat).into_iter().filter(|c| *c == code).count()
}

#[test]
fn bounds_checks_are_elided_only_within_the_guard() {
    let count = |wat: &str| count_traps(wat, wasmc_abi::TrapCode::MemoryOutOfBounds);
    // offset + size <= guard: the load itself is the only trap site.
    let guard = wasmc_compiler::MEMORY_GUARD;
    let elided = format!(
        "(module (memory 1) (func (param i32) (result i32) local.get 0 i32.load offset={}))",
        guard - 4
    );
    assert_eq!(count(&elided), 1);
    // One byte further: an explicit check (its own trap site) precedes the load.
    let checked = format!(
        "(module (memory 1) (func (param i32) (result i32) local.get 0 i32.load offset={}))",
        guard - 3
    );
    assert_eq!(count(&checked), 2);
}

#[test]
fn interruption_checks_sit_at_loop_headers_and_calls_are_stopped_by_the_stack_check() {
    let count = |wat: &str| count_traps(wat, wasmc_abi::TrapCode::Interrupt);
    let stack_checks = |wat: &str| count_traps(wat, wasmc_abi::TrapCode::StackOverflow);
    // A leaf function without loops runs in bounded time: no check at all (the loader checks
    // before the host enters Wasm).
    let leaf = "(module (func (param i32) (result i32) local.get 0 i32.const 1 i32.add))";
    assert_eq!(count(leaf), 0);
    // A loop header checks, also in a leaf function, unless loops are stopped by signal
    // (the default on Linux).
    let spin = "(module (func (loop br 0)))";
    let checked = trap_codes_with(CompileOptions::new().interrupt_by_signal(false), spin);
    assert_eq!(
        checked
            .iter()
            .filter(|c| **c == wasmc_abi::TrapCode::Interrupt)
            .count(),
        1
    );
    assert_eq!(count(spin), 0);
    // A function that calls has no interrupt check at its entry, but the prologue's
    // stack-limit check, which the loader makes fail while the store must stop.
    for calls in [
        "(module (func $f call $f))",
        "(module (func $f return_call $f))",
        "(module (type $t (func)) (table 1 funcref) (func i32.const 0 call_indirect (type $t)))",
    ] {
        assert_eq!(count(calls), 0, "{calls}");
        assert_eq!(stack_checks(calls), 1, "{calls}");
    }
}

#[test]
fn call_indirect_checks_bounds_null_and_signature() {
    use wasmc_abi::TrapCode::*;
    let codes = trap_codes(
        r#"(module (table 1 funcref)
             (func (param i32) local.get 0 call_indirect)
             (func unreachable))"#,
    );
    for code in [
        UndefinedElement,
        IndirectCallToNull,
        BadSignature,
        UnreachableCodeReached,
    ] {
        assert!(codes.contains(&code), "{code:?} missing from {codes:?}");
    }
}

#[test]
fn empty_and_import_only_modules_compile() {
    for target in Target::ALL {
        for wat in [
            "(module)",
            r#"(module (import "env" "g" (global i32)) (import "env" "m" (memory 1)))"#,
        ] {
            let bytes = compile(target, wat).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            let meta =
                ModuleMetadata::decode(section(&file, target, obj::META_SECTION).data().unwrap())
                    .unwrap();
            assert!(meta.defined_funcs.is_empty());
        }
    }
}

#[test]
fn escaped_functions_include_elements_ref_func_and_start() {
    let bytes = compile(
        Target::X86_64Linux,
        r#"(module
             (table 1 funcref)
             (func $a) (func $b) (func $c) (func $d) (func $e)
             (elem (i32.const 0) $a)
             (elem declare func $b)
             (global funcref (ref.func $c))
             (func $f (drop (ref.func $b)))
             (start $d))"#,
    )
    .unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let meta = ModuleMetadata::decode(
        section(&file, Target::X86_64Linux, obj::META_SECTION)
            .data()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(meta.escaped_funcs, vec![0, 1, 2, 3]);
    assert_eq!(meta.defined_funcs[4].entry_off, NONE);
    assert_eq!(meta.start, Some(3));
}

#[test]
fn options_reach_the_header_and_every_opt_level_compiles() {
    let wasm = wat::parse_str(MODULE).unwrap();
    for level in [OptLevel::None, OptLevel::Speed, OptLevel::SpeedAndSize] {
        for epoch in [false, true] {
            let opts = CompileOptions::new()
                .target(Target::Aarch64Linux)
                .opt_level(level)
                .epoch_interruption(epoch);
            let bytes = Compiler::new(&opts).unwrap().compile(&wasm).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            let hdr = ArtifactHeader::decode(
                section(&file, Target::Aarch64Linux, obj::HEADER_SECTION)
                    .data()
                    .unwrap(),
            )
            .unwrap();
            let flag = wasmc_abi::metadata::flags::EPOCH_INTERRUPTION;
            assert_eq!(hdr.flags & flag != 0, epoch, "{level:?}");
            // Linux targets are stopped by signal by default; code that is not interruptible
            // is not stopped at all.
            let signal = wasmc_abi::metadata::flags::SIGNAL_INTERRUPTION;
            assert_eq!(hdr.flags & signal != 0, epoch, "{level:?}");
        }
    }
}

#[test]
fn interruption_by_signal_is_linux_only_and_removes_the_loop_checks() {
    use wasmc_abi::metadata::flags;
    let wasm = wat::parse_str(
        r#"(module (func (export "spin") (param i32) (result i32) (local i32)
             (loop (local.set 1 (i32.add (local.get 1) (local.get 0)))
                   (br_if 0 (local.get 1)))
             (local.get 1)))"#,
    )
    .unwrap();
    let header_and_text = |opts: CompileOptions, target: Target| {
        let bytes = Compiler::new(&opts.target(target))
            .unwrap()
            .compile(&wasm)
            .unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let hdr =
            ArtifactHeader::decode(section(&file, target, obj::HEADER_SECTION).data().unwrap())
                .unwrap();
        (hdr.flags, file.section_by_name(".text").map(|s| s.size()))
    };
    let (by_signal, signal_text) = header_and_text(CompileOptions::new(), Target::X86_64Linux);
    assert_eq!(
        by_signal,
        flags::EPOCH_INTERRUPTION | flags::SIGNAL_INTERRUPTION
    );
    let (checked, checked_text) = header_and_text(
        CompileOptions::new().interrupt_by_signal(false),
        Target::X86_64Linux,
    );
    assert_eq!(checked, flags::EPOCH_INTERRUPTION);
    assert!(
        signal_text < checked_text,
        "no check in the loop: {signal_text:?} < {checked_text:?} bytes"
    );
    // macOS has no signal path: checks by default, and asking for signals is refused.
    let (mac, _) = header_and_text(CompileOptions::new(), Target::Aarch64Darwin);
    assert_eq!(mac, flags::EPOCH_INTERRUPTION);
    let e = Compiler::new(
        &CompileOptions::new()
            .target(Target::X86_64Darwin)
            .interrupt_by_signal(true),
    )
    .expect_err("refused");
    assert!(e.to_string().contains("Linux only"), "{e}");
}

#[test]
fn compilation_is_deterministic() {
    // Functions are compiled on several threads; the artifact must not depend on scheduling.
    let mut wat = String::from("(module (memory 1)");
    for i in 0..64 {
        wat.push_str(&format!(
            "(func (export \"f{i}\") (param i32) (result i32) local.get 0 i32.load offset={i})"
        ));
    }
    wat.push(')');
    let first = compile(Target::X86_64Linux, &wat).unwrap();
    for _ in 0..3 {
        assert_eq!(compile(Target::X86_64Linux, &wat).unwrap(), first);
    }
}

/// `len` bytes of a recognisable pattern (never all zeros), as a WAT string literal.
fn wat_bytes(len: usize, seed: u8) -> (Vec<u8>, String) {
    let bytes: Vec<u8> = (0..len)
        .map(|i| (i % 251) as u8 ^ seed.wrapping_add((i / 4096) as u8))
        .collect();
    let text = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
    (bytes, text)
}

#[test]
fn large_active_segments_are_placed_for_mapping() {
    let align = obj::COW_ALIGN;
    let (small, small_wat) = wat_bytes(100, 1);
    let (big, big_wat) = wat_bytes(100 * 1024, 2);
    let (aligned, aligned_wat) = wat_bytes(70 * 1024, 3);
    let (passive, passive_wat) = wat_bytes(80 * 1024, 4);
    let (dynamic, dynamic_wat) = wat_bytes(66 * 1024, 5);
    let (big64, big64_wat) = wat_bytes(65 * 1024, 6);
    let wat = format!(
        r#"(module
             (import "env" "m" (memory 1))
             (import "env" "g" (global i32))
             (memory $m 40)
             (data (memory $m) (i32.const 5) "{small_wat}")
             (data (memory $m) (i32.const 0x10003) "{big_wat}")
             (data (memory $m) (i32.const 0x40000) "{aligned_wat}")
             (data "{passive_wat}")
             (data (memory $m) (global.get 0) "{dynamic_wat}")
             (data (memory 0) (i32.const 0) "{big64_wat}"))"#
    );
    // (bytes, memory offset if it must be placed for mapping)
    let expected: [(&[u8], Option<u64>); 6] = [
        (&small, None),
        (&big, Some(0x10003)),
        (&aligned, Some(0x40000)),
        (&passive, None),
        (&dynamic, None),
        // Imported memory: the loader never maps into it.
        (&big64, None),
    ];
    for target in Target::ALL {
        // Without a large segment, no padding and no 64 KiB alignment.
        let small_only =
            compile(target, r#"(module (memory 1) (data (i32.const 0) "x"))"#).unwrap();
        let file = object::File::parse(&*small_only).unwrap();
        assert!(
            section(&file, target, obj::DATA_SECTION).align() < align,
            "{target}"
        );
        // Only the text alignment pads the file: the header, metadata and data fit before it.
        let limit = target.text_align() + 8192;
        assert!(
            (small_only.len() as u64) < limit,
            "{target}: {} bytes",
            small_only.len()
        );

        let bytes = compile(target, &wat).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let data = section(&file, target, obj::DATA_SECTION);
        assert_eq!(data.align(), align, "{target}");
        let (file_off, _) = data.file_range().expect("data has file contents");
        if !target.is_macho() {
            // Mach-O places sections at their address plus the size of the load commands;
            // the layout below makes up for it.
            assert_eq!(
                file_off % align,
                0,
                "{target}: .wasmc.data at {file_off:#x}"
            );
        }
        let data = data.data().unwrap();
        let meta =
            ModuleMetadata::decode(section(&file, target, obj::META_SECTION).data().unwrap())
                .unwrap();
        assert_eq!(meta.datas.len(), expected.len());
        let mut packed_end = 0;
        for (i, (seg, (want, mem_off))) in meta.datas.iter().zip(expected).enumerate() {
            let off = file_off + u64::from(seg.data_off);
            let range = seg.data_off as usize..(seg.data_off + seg.data_len) as usize;
            assert_eq!(&data[range.clone()], want, "{target}: segment {i} bytes");
            match mem_off {
                Some(m) => assert_eq!(off % align, m % align, "{target}: segment {i}"),
                None => assert_eq!(
                    u64::from(seg.data_off),
                    packed_end,
                    "{target}: segment {i} is packed"
                ),
            }
            packed_end = range.end as u64;
        }
    }
}
