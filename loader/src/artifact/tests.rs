//! Loader tests on mock artifacts: objects written here with hand-assembled x86_64 code, so
//! the artifact checks, the call path and the signal handler are tested without the compiler.

use object::write::{Object, Relocation, Symbol, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind};
use wasmc_abi::metadata::{
    self, ArtifactHeader, DefinedFunc, Export, ExternKind, Fnv64, ModuleMetadata, Target,
};
use wasmc_abi::{FuncType, TrapCode, ValType, obj};

use crate::{Artifact, ErrorKind, Linker, LoadError, Store, Val};

/// An entry trampoline and body in one, assembled from:
///
/// ```text
/// entry:  push rbp; mov rbp, rsp
///         mov rax, [rdi+8]            ; store context
///         mov [rax+24], rbp           ; LAST_ENTRY_FP
///         mov [rax+32], rsp           ; LAST_ENTRY_SP
///         lea r8, [rip+landing]
///         mov [rax+40], r8            ; LAST_ENTRY_HANDLER
///         mov r8d, [rdx]              ; values[0]
///         cmp r8d, 0 ; je do_trap
///         cmp r8d, 1 ; je do_segv
///         cmp r8d, 2 ; je do_div
///         add r8d, [rdx+16] ; mov [rdx], r8 ; mov eax, 1 ; pop rbp ; ret
/// 0x3e:   ud2                         ; trap site: unreachable
/// 0x40:   xor r9d, r9d
/// 0x43:   mov r9, [r9]                ; trap site: out of bounds (null load)
/// 0x46:   xor ecx, ecx ; mov eax, 5 ; cdq
/// 0x4e:   idiv ecx                    ; trap site: divide by zero
///         nop
/// 0x51:   landing: xor eax, eax ; pop rbp ; ret
/// ```
const CODE: [u8; 85] = [
    0x55, 0x48, 0x89, 0xe5, 0x48, 0x8b, 0x47, 0x08, 0x48, 0x89, 0x68, 0x18, 0x48, 0x89, 0x60, 0x20,
    0x4c, 0x8d, 0x05, 0x3a, 0x00, 0x00, 0x00, 0x4c, 0x89, 0x40, 0x28, 0x44, 0x8b, 0x02, 0x41, 0x83,
    0xf8, 0x00, 0x74, 0x1a, 0x41, 0x83, 0xf8, 0x01, 0x74, 0x16, 0x41, 0x83, 0xf8, 0x02, 0x74, 0x16,
    0x44, 0x03, 0x42, 0x10, 0x4c, 0x89, 0x02, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x5d, 0xc3, 0x0f, 0x0b,
    0x45, 0x31, 0xc9, 0x4d, 0x8b, 0x09, 0x31, 0xc9, 0xb8, 0x05, 0x00, 0x00, 0x00, 0x99, 0xf7, 0xf9,
    0x90, 0x31, 0xc0, 0x5d, 0xc3,
];

fn mock_meta() -> ModuleMetadata {
    ModuleMetadata {
        name: Some("mock".into()),
        types: vec![FuncType::new([ValType::I32, ValType::I32], [ValType::I32])],
        functions: vec![0],
        defined_funcs: vec![DefinedFunc {
            text_off: 0,
            text_len: u32::try_from(CODE.len()).unwrap(),
            entry_off: 0,
            func_ref_slot: 0,
        }],
        escaped_funcs: vec![0],
        exports: vec![Export {
            name: "f".into(),
            kind: ExternKind::Func,
            index: 0,
        }],
        host_trampolines: vec![metadata::NONE],
        func_names: vec![(0, "mock_fn".into())],
        ..Default::default()
    }
}

struct Mock {
    target: Target,
    meta: Vec<u8>,
    hash_override: Option<u64>,
    text_relocation: bool,
    undefined_symbol: bool,
}

impl Default for Mock {
    fn default() -> Self {
        Mock {
            target: Target::X86_64Linux,
            meta: mock_meta().encode(),
            hash_override: None,
            text_relocation: false,
            undefined_symbol: false,
        }
    }
}

impl Mock {
    fn build(&self) -> Vec<u8> {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
        let mut header = ArtifactHeader {
            format_version: metadata::FORMAT_VERSION,
            target: self.target,
            layout_hash: wasmc_abi::vmoffsets::layout_hash(),
            isa_features: 0,
            flags: 0,
            memory_reservation: 1 << 32,
            memory_guard: 32 << 20,
            meta_hash: self.hash_override.unwrap_or(Fnv64::hash(&self.meta)),
            compiler_version: metadata::COMPILER_VERSION.into(),
            checksum: [0; 32],
        };
        let traps = metadata::encode_trap_table(&[
            (0x3e, TrapCode::UnreachableCodeReached),
            (0x43, TrapCode::MemoryOutOfBounds),
            (0x4e, TrapCode::IntegerDivisionByZero),
        ]);
        header.checksum =
            wasmc_abi::metadata::checksum(&header.encode(), &self.meta, &traps, b"", &CODE);
        let mut add = |name: &str, kind, data: &[u8], align| {
            let s = o.add_section(vec![], name.as_bytes().to_vec(), kind);
            o.append_section_data(s, data, align);
            s
        };
        add(
            obj::HEADER_SECTION,
            SectionKind::ReadOnlyData,
            &header.encode(),
            8,
        );
        add(obj::META_SECTION, SectionKind::ReadOnlyData, &self.meta, 8);
        add(obj::TRAPS_SECTION, SectionKind::ReadOnlyData, &traps, 4);
        add(obj::DATA_SECTION, SectionKind::ReadOnlyData, b"", 8);
        let text = add(obj::TEXT_SECTION, SectionKind::Text, &CODE, 4096);
        if self.text_relocation || self.undefined_symbol {
            let sym = o.add_symbol(Symbol {
                name: b"elsewhere".to_vec(),
                value: 0,
                size: 0,
                kind: object::SymbolKind::Text,
                scope: object::SymbolScope::Dynamic,
                weak: false,
                section: SymbolSection::Undefined,
                flags: object::SymbolFlags::None,
            });
            if self.text_relocation {
                o.add_relocation(
                    text,
                    Relocation {
                        offset: 0x12,
                        symbol: sym,
                        addend: -4,
                        flags: RelocationFlags::Elf {
                            r_type: object::elf::R_X86_64_PC32,
                        },
                    },
                )
                .unwrap();
            }
        }
        o.write().unwrap()
    }
}

fn load_err(bytes: &[u8]) -> LoadError {
    // SAFETY: test input; anything accepted is our own mock code.
    match unsafe { Artifact::from_bytes(bytes) } {
        Ok(_) => panic!("loaded a bad artifact"),
        Err(e) => match e.into_kind() {
            ErrorKind::Load(l) => l,
            k => panic!("not a load error: {k:?}"),
        },
    }
}

#[test]
fn a_mock_artifact_loads_from_bytes_and_file() {
    let bytes = Mock::default().build();
    // SAFETY: our own mock code.
    let a = unsafe { Artifact::from_bytes(&bytes) }.unwrap();
    assert_eq!(a.exports()[0].name, "f");
    assert_eq!(a.inner.func_at(0x3e), Some(0));
    assert_eq!(a.inner.func_at(0x55), None);
    let dir = std::env::temp_dir().join(format!("wasmc-loader-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mock.wasmc.o");
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: our own mock code, not modified while mapped.
    let f = unsafe { Artifact::from_file(&path) }.unwrap();
    assert_eq!(f.inner.text_len, CODE.len());
    run_all_traps(&f);
    drop(f);
    let _ = std::fs::remove_dir_all(&dir);
}

fn run_all_traps(a: &Artifact) {
    let mut store = Store::new(());
    let inst = Linker::new().instantiate(&mut store, a).unwrap();
    let f = inst.get_func(&store, "f").unwrap();
    let mut r = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(5), Val::I32(7)], &mut r)
        .unwrap();
    assert_eq!(r[0], Val::I32(12));
    for (arg, code) in [
        (0, TrapCode::UnreachableCodeReached),
        (1, TrapCode::MemoryOutOfBounds),
        (2, TrapCode::IntegerDivisionByZero),
    ] {
        let e = f
            .call(&mut store, &[Val::I32(arg), Val::I32(0)], &mut r)
            .unwrap_err();
        assert_eq!(e.trap_code(), Some(code), "{e}");
        let t = e.as_trap().unwrap();
        assert_eq!(t.func_index, Some(0));
        assert_eq!(t.func_name.as_deref(), Some("mock_fn"));
        assert!(e.to_string().contains(code.message()), "{e}");
    }
    // The store and the thread go on after traps.
    let typed = f.typed::<(i32, i32), i32>(&store).unwrap();
    assert_eq!(typed.call(&mut store, (40, 2)).unwrap(), 42);
}

#[test]
fn traps_are_caught_and_calls_go_on() {
    // SAFETY: our own mock code.
    let a = unsafe { Artifact::from_bytes(&Mock::default().build()) }.unwrap();
    run_all_traps(&a);
}

#[test]
fn traps_are_caught_on_other_threads() {
    // SAFETY: our own mock code.
    let a = unsafe { Artifact::from_bytes(&Mock::default().build()) }.unwrap();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let a = a.clone();
            std::thread::spawn(move || run_all_traps(&a))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn corrupt_inputs_are_refused_with_a_reason() {
    let good = Mock::default().build();
    assert!(matches!(load_err(b"hello"), LoadError::NotAnObject(_)));
    assert!(matches!(load_err(&[]), LoadError::NotAnObject(_)));
    if let Ok(ls) = std::fs::read("/bin/ls") {
        assert!(matches!(load_err(&ls), LoadError::NotAnArtifact(_)));
    }
    // Every truncation fails cleanly (mostly "not an object"), never panics.
    for n in (0..good.len()).step_by(7) {
        // SAFETY: anything accepted would be our own mock code.
        let r = unsafe { Artifact::from_bytes(&good[..n]) };
        assert!(r.is_err(), "prefix {n}");
    }
    // Bit flips anywhere: never a panic. Inside the header or metadata: always an error.
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] ^= 0x10;
        // SAFETY: anything accepted would be our own mock code, or code of ours with one
        // bit flipped that is never called.
        let _ = unsafe { Artifact::from_bytes(&b) };
    }
    let wrong_target = Mock {
        target: Target::Aarch64Linux,
        ..Default::default()
    };
    let e = load_err(&wrong_target.build());
    assert!(matches!(e, LoadError::WrongTarget { .. }), "{e}");
    assert!(e.to_string().contains("aarch64"), "{e}");
    let bad_hash = Mock {
        hash_override: Some(1),
        ..Default::default()
    };
    assert!(matches!(
        load_err(&bad_hash.build()),
        LoadError::MetaHash { .. }
    ));
    let reloc = Mock {
        text_relocation: true,
        ..Default::default()
    };
    assert!(matches!(
        load_err(&reloc.build()),
        LoadError::Relocations(_)
    ));
    let undef = Mock {
        undefined_symbol: true,
        ..Default::default()
    };
    assert!(matches!(
        load_err(&undef.build()),
        LoadError::Relocations(_)
    ));
    let mut meta = mock_meta();
    meta.defined_funcs[0].text_len = 4096;
    let outside = Mock {
        meta: meta.encode(),
        ..Default::default()
    };
    assert!(matches!(
        load_err(&outside.build()),
        LoadError::BadMetadata(_)
    ));
    let garbage = Mock {
        meta: vec![1, 2, 3],
        ..Default::default()
    };
    assert!(matches!(
        load_err(&garbage.build()),
        LoadError::Corrupt { .. }
    ));
}

#[test]
fn header_bit_flips_are_refused() {
    let good = Mock::default().build();
    let file = object::File::parse(&*good).unwrap();
    use object::{Object, ObjectSection};
    let (off, len) = file
        .section_by_name(obj::HEADER_SECTION)
        .unwrap()
        .file_range()
        .unwrap();
    // Magic, version, target, layout hash and metadata hash: any flip must be refused.
    // (Feature bits the host has, smaller memory assumptions and padding may legitimately
    // change without harm; the compiler version is checked on its own, see
    // `an_artifact_from_another_compiler_version_is_refused`.)
    for i in (0..24).chain(56..64) {
        let mut b = good.clone();
        b[usize::try_from(off).unwrap() + i] ^= 1;
        let _ = len;
        // SAFETY: anything accepted would be our own mock code.
        let r = unsafe { Artifact::from_bytes(&b) };
        assert!(r.is_err(), "flipping header byte {i} was not noticed");
    }
}

/// An artifact written by another compiler version (same format, layout and everything
/// else, and a checksum that matches, so only the version check can refuse it) is refused
/// with both versions named and the advice to rebuild.
#[test]
fn an_artifact_from_another_compiler_version_is_refused() {
    let wasm = wat::parse_str("(module (func (export \"f\") (result i32) i32.const 1))").unwrap();
    let good = wasmc_compiler::compile(&wasm).unwrap();
    // SAFETY: straight from the compiler.
    unsafe { Artifact::from_bytes(&good) }.expect("the unpatched artifact loads");

    let file = object::File::parse(&*good).unwrap();
    use object::ObjectSection;
    let section = |name: &str| match super::sections::find_section(&file, name) {
        Some(s) => {
            let (off, len) = s.file_range().unwrap_or((0, 0));
            usize::try_from(off).unwrap()..usize::try_from(off + len).unwrap()
        }
        None => 0..0,
    };
    let hdr = section(obj::HEADER_SECTION);
    let mut patched = good.clone();
    let version = &mut patched[hdr.start + 64..hdr.start + 96];
    version.fill(0);
    version[..9].copy_from_slice(b"0.0.1-old");
    let header: [u8; metadata::HEADER_SIZE] = patched[hdr.clone()].try_into().unwrap();
    let sum = wasmc_abi::metadata::checksum(
        &header,
        &good[section(obj::META_SECTION)],
        &good[section(obj::TRAPS_SECTION)],
        &good[section(obj::DATA_SECTION)],
        &good[section(obj::TEXT_SECTION)],
    );
    patched[hdr.start + metadata::CHECKSUM_RANGE.start..hdr.start + metadata::CHECKSUM_RANGE.end]
        .copy_from_slice(&sum);
    let err = load_err(&patched);
    assert!(
        matches!(&err, LoadError::CompilerVersion { found, expected }
            if found == "0.0.1-old" && *expected == metadata::COMPILER_VERSION),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("\"0.0.1-old\""), "{msg}");
    assert!(msg.contains(metadata::COMPILER_VERSION), "{msg}");
    assert!(msg.contains("rebuild"), "{msg}");
}

#[test]
fn data_segments_are_borrowed_at_load_not_copied() {
    use object::{Object as _, ObjectSection as _};
    // A passive segment makes the file larger than the 64 KiB under which a file is read
    // instead of mapped (`small_artifact_files_are_read_not_mapped`).
    let filler = "w".repeat(70_000);
    let wasm = wat::parse_str(format!(
        r#"(module (memory (export "m") 2) (data (i32.const 8) "borrowed bytes") (data "{filler}"))"#
    ))
    .unwrap();
    let bytes = wasmc_compiler::compile(&wasm).unwrap();
    assert!(bytes.len() > super::SMALL_FILE);
    let section = object::File::parse(&*bytes)
        .unwrap()
        .section_by_name(obj::DATA_SECTION)
        .unwrap()
        .data()
        .unwrap()
        .to_vec();
    assert!(section.windows(14).any(|w| w == b"borrowed bytes"));
    let inside = |outer: &[u8], inner: &[u8]| outer.as_ptr_range().contains(&inner.as_ptr());

    // SAFETY: compiled just above.
    let a = unsafe { Artifact::from_bytes(&bytes) }.unwrap();
    assert!(matches!(a.inner.data, super::DataBytes::Owned(_)));
    assert_eq!(a.inner.data.bytes(), section);

    // A 16-byte aligned static copy is used in place.
    let words: &'static mut [u128] = vec![0u128; bytes.len().div_ceil(16)].leak();
    // SAFETY: `words` has at least `bytes.len()` bytes and u8 has no invalid bit patterns.
    let stat: &'static mut [u8] =
        unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), bytes.len()) };
    stat.copy_from_slice(&bytes);
    let stat: &'static [u8] = stat;
    // SAFETY: compiled just above.
    let s = unsafe { Artifact::from_static(stat) }.unwrap();
    assert!(matches!(s.inner.data, super::DataBytes::Static(_)));
    assert!(inside(stat, s.inner.data.bytes()));
    assert_eq!(s.inner.data.bytes(), section);

    let dir = std::env::temp_dir().join(format!("wasmc-loader-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.wasmc.o");
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: compiled just above, not modified while mapped.
    let f = unsafe { Artifact::from_file(&path) }.unwrap();
    let super::DataBytes::File { map, range, .. } = &f.inner.data else {
        panic!("data of a file artifact was copied: {:?}", f.inner.data);
    };
    assert!(inside(map.bytes(), f.inner.data.bytes()));
    assert_eq!(&map.bytes()[range.clone()], section);
    assert_eq!(f.inner.data.bytes(), section);
    let (_, file_off) = f.inner.data.file().unwrap();
    assert_eq!(file_off, range.start as u64);
    let mut store = Store::new(());
    let i = Linker::new().instantiate(&mut store, &f).unwrap();
    let mem = i.get_memory(&store, "m").unwrap();
    assert_eq!(&mem.data(&store)[8..22], b"borrowed bytes");
    drop(store);
    drop(f);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn small_artifact_files_are_read_not_mapped() {
    let wasm =
        wat::parse_str(r#"(module (memory (export "m") 1) (data (i32.const 8) "small bytes") (func (export "f") (result i32) i32.const 1))"#)
            .unwrap();
    let bytes = wasmc_compiler::compile(&wasm).unwrap();
    assert!(bytes.len() < super::SMALL_FILE);
    let dir = std::env::temp_dir().join(format!("wasmc-loader-small-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("small.wasmc.o");
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: compiled just above, not modified while mapped.
    let f = unsafe { Artifact::from_file(&path) }.unwrap();
    assert!(matches!(f.inner.data, super::DataBytes::Owned(_)));
    assert!(matches!(f.inner._code, super::Code::FileText(_)));
    assert!(f.inner.data.file().is_none());
    let mut store = Store::new(());
    let i = Linker::new().instantiate(&mut store, &f).unwrap();
    let mem = i.get_memory(&store, "m").unwrap();
    assert_eq!(&mem.data(&store)[8..19], b"small bytes");
    drop(store);
    drop(f);
    let _ = std::fs::remove_dir_all(&dir);
}
