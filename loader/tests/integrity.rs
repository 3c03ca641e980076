//! Damaged and foreign artifacts: every truncation, every single-bit flip, foreign ELF and
//! Mach-O objects and other format versions are refused with a clear [`LoadError`] before any
//! code is mapped, or (only for bytes the checksum does not cover) load and run correctly.
//!
//! Every test holds [`SERIAL`]: some count the process's executable mappings, so no other
//! test of this binary may map code meanwhile.

#![allow(
    unsafe_code,
    reason = "loading artifacts is unsafe; each call says why it is sound"
)]

use std::ops::Range;
use std::sync::Mutex;

use object::{Object, ObjectSection};
use wasmc_abi::metadata::{self, ArtifactHeader, HEADER_SIZE};
use wasmc_abi::{DecodeError, TrapCode, obj};
use wasmc_loader::{Artifact, ErrorKind, Linker, LoadError, Store};

static SERIAL: Mutex<()> = Mutex::new(());

const WAT: &str = r#"
(module
  (type $t (func (param i32 i32) (result i32)))
  (memory (export "mem") 1)
  (data (i32.const 16) "hello wasmc")
  (global $g (mut i32) (i32.const 7))
  (table 2 funcref)
  (elem (i32.const 0) $add $load)
  (func $add (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add global.get $g i32.add)
  (func $load (export "load") (param i32 i32) (result i32)
    local.get 0 i32.load8_u)
  (func (export "call") (param i32) (result i32)
    i32.const 16 i32.const 3 local.get 0 call_indirect (type $t))
  (func (export "div") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.div_s))
"#;

fn artifact_bytes() -> Vec<u8> {
    let wasm = wat::parse_str(WAT).expect("test module parses");
    wasmc_compiler::compile(&wasm).expect("test module compiles")
}

/// Loads with the checksum verified. Sound: whatever is accepted passed the checksum of an
/// artifact our own compiler wrote, or differs from it only in bytes the loader never reads
/// as code, data or metadata.
fn load(bytes: &[u8]) -> Result<Artifact, wasmc_loader::Error> {
    // SAFETY: see above.
    unsafe { Artifact::from_bytes(bytes) }
}

fn load_error(bytes: &[u8]) -> LoadError {
    match load(bytes) {
        Ok(_) => panic!("a bad artifact was accepted"),
        Err(e) => match e.into_kind() {
            ErrorKind::Load(l) => l,
            k => panic!("not a load error: {k:?}"),
        },
    }
}

/// Runs every export and checks every result and trap.
fn check_runs(artifact: &Artifact) {
    let mut store = Store::new(());
    let inst = Linker::new()
        .instantiate(&mut store, artifact)
        .expect("instantiating");
    let add = inst
        .get_typed_func::<(i32, i32), i32>(&store, "add")
        .unwrap();
    let load = inst
        .get_typed_func::<(i32, i32), i32>(&store, "load")
        .unwrap();
    let call = inst.get_typed_func::<i32, i32>(&store, "call").unwrap();
    let div = inst
        .get_typed_func::<(i32, i32), i32>(&store, "div")
        .unwrap();
    assert_eq!(add.call(&mut store, (2, 3)).unwrap(), 12);
    assert_eq!(load.call(&mut store, (16, 0)).unwrap(), i32::from(b'h'));
    assert_eq!(call.call(&mut store, 0).unwrap(), 26);
    assert_eq!(call.call(&mut store, 1).unwrap(), i32::from(b'h'));
    assert_eq!(div.call(&mut store, (-9, 2)).unwrap(), -4);
    let trap = |r: Result<i32, wasmc_loader::Error>| r.unwrap_err().trap_code();
    assert_eq!(
        trap(div.call(&mut store, (1, 0))),
        Some(TrapCode::IntegerDivisionByZero)
    );
    assert_eq!(
        trap(load.call(&mut store, (65536, 0))),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        trap(call.call(&mut store, 2)),
        Some(TrapCode::UndefinedElement)
    );
}

/// Number of executable mappings of this process.
fn exec_mappings() -> usize {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines()
        .filter(|l| l.split_whitespace().nth(1).is_some_and(|p| p.contains('x')))
        .count()
}

/// Asserts that loading `bytes` fails without creating an executable mapping.
#[track_caller]
fn refused_without_mapping(bytes: &[u8]) -> LoadError {
    let before = exec_mappings();
    let e = load_error(bytes);
    assert!(!matches!(e, LoadError::Map(_)), "{e}");
    if cfg!(target_os = "linux") {
        assert_eq!(exec_mappings(), before, "refusing mapped code: {e}");
    }
    e
}

/// File ranges of the header, metadata, trap table, data and text sections.
fn covered_ranges(bytes: &[u8]) -> Vec<Range<usize>> {
    let file = object::File::parse(bytes).unwrap();
    [
        obj::HEADER_SECTION,
        obj::META_SECTION,
        obj::TRAPS_SECTION,
        obj::DATA_SECTION,
        obj::TEXT_SECTION,
    ]
    .iter()
    .filter_map(|name| file.section_by_name(name))
    .filter_map(|s| s.file_range())
    .map(|(o, l)| usize::try_from(o).unwrap()..usize::try_from(o + l).unwrap())
    .collect()
}

fn header_offset(bytes: &[u8]) -> usize {
    let file = object::File::parse(bytes).unwrap();
    let (off, _) = file
        .section_by_name(obj::HEADER_SECTION)
        .unwrap()
        .file_range()
        .unwrap();
    usize::try_from(off).unwrap()
}

#[test]
fn the_good_artifact_runs_checked_and_unchecked() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = artifact_bytes();
    check_runs(&load(&bytes).unwrap());
    // SAFETY: our own compiler's output, unmodified.
    check_runs(&unsafe { Artifact::from_bytes_unchecked(&bytes) }.unwrap());
    let header = load(&bytes).unwrap().header().clone();
    assert_ne!(header.checksum, [0; 32]);
    assert_eq!(header.format_version, metadata::FORMAT_VERSION);
}

#[test]
fn every_truncation_is_refused_without_mapping_code() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = artifact_bytes();
    for n in 0..bytes.len() {
        refused_without_mapping(&bytes[..n]);
    }
}

#[test]
fn every_bit_flip_is_refused_or_harmless() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = artifact_bytes();
    let covered = covered_ranges(&bytes);
    assert_eq!(covered.len(), 5, "all five sections have file contents");
    let (mut refused, mut checksum_errors, mut harmless) = (0, 0, 0);
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 1 << (i % 8);
        let is_covered = covered.iter().any(|r| r.contains(&i));
        match load(&b) {
            Err(e) => {
                let ErrorKind::Load(l) = e.into_kind() else {
                    panic!("byte {i}: not a load error");
                };
                assert!(!matches!(l, LoadError::Map(_)), "byte {i}: {l}");
                if matches!(l, LoadError::Checksum { .. }) {
                    checksum_errors += 1;
                }
                refused += 1;
            }
            Ok(a) => {
                assert!(
                    !is_covered,
                    "byte {i} is covered by the checksum but the flip loaded"
                );
                check_runs(&a);
                harmless += 1;
            }
        }
    }
    // Flips in the covered sections are caught by the checksum (except the magic and the
    // version, which are checked first); the object's own structure is caught or harmless.
    assert!(checksum_errors > 0 && harmless > 0, "{refused} {harmless}");
    eprintln!(
        "{} bytes: {refused} refused ({checksum_errors} by the checksum), {harmless} harmless",
        bytes.len()
    );
}

#[test]
fn a_flipped_code_byte_is_caught_only_by_the_checksum() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = artifact_bytes();
    let text = covered_ranges(&bytes)[4].clone();
    let mut b = bytes.clone();
    b[text.start] ^= 0x40;
    let e = load_error(&b);
    assert!(matches!(e, LoadError::Checksum { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("checksum") && msg.contains("damaged"), "{msg}");
    // The explicit fast path does not hash, so it accepts the damage (the code is not run).
    // SAFETY: the damaged code is never called; loading only copies it.
    assert!(unsafe { Artifact::from_bytes_unchecked(&b) }.is_ok());
}

#[test]
fn other_format_versions_are_refused_before_the_checksum() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = artifact_bytes();
    let off = header_offset(&bytes);
    for version in [0u32, 1, metadata::FORMAT_VERSION + 1, u32::MAX] {
        let mut b = bytes.clone();
        b[off + 8..off + 12].copy_from_slice(&version.to_le_bytes());
        let e = refused_without_mapping(&b);
        assert!(
            matches!(
                e,
                LoadError::Header(DecodeError::FormatVersion { found, .. }) if found == version
            ),
            "{e}"
        );
        assert!(e.to_string().contains("rebuild"), "{e}");
    }
    let mut b = bytes.clone();
    b[off] ^= 0xff;
    assert!(matches!(
        refused_without_mapping(&b),
        LoadError::Header(DecodeError::BadMagic)
    ));
}

#[test]
fn foreign_objects_are_refused_without_mapping_code() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for path in ["/bin/ls", "/bin/sh", "/usr/lib/x86_64-linux-gnu/libc.so.6"] {
        if let Ok(b) = std::fs::read(path) {
            let e = refused_without_mapping(&b);
            assert!(matches!(e, LoadError::NotAnArtifact(_)), "{path}: {e}");
        }
    }
    use object::write::Object as WObject;
    use object::{Architecture, BinaryFormat, Endianness, SectionKind};
    for (format, arch) in [
        (BinaryFormat::Elf, Architecture::X86_64),
        (BinaryFormat::Elf, Architecture::Aarch64),
        (BinaryFormat::MachO, Architecture::X86_64),
        (BinaryFormat::MachO, Architecture::Aarch64),
    ] {
        // An ordinary object with code and data.
        let mut o = WObject::new(format, arch, Endianness::Little);
        let text = o.section_id(object::write::StandardSection::Text);
        o.append_section_data(text, &[0xc3; 16], 16);
        let data = o.section_id(object::write::StandardSection::Data);
        o.append_section_data(data, b"not wasm", 8);
        let plain = o.write().unwrap();
        let e = refused_without_mapping(&plain);
        assert!(matches!(e, LoadError::NotAnArtifact(_)), "{format:?}: {e}");

        // One that imitates the header section's name but holds something else.
        let mut o = WObject::new(format, arch, Endianness::Little);
        let (seg, name) = if format == BinaryFormat::MachO {
            let (s, n) = obj::macho_section(obj::HEADER_SECTION).unwrap();
            (s.as_bytes().to_vec(), n.as_bytes().to_vec())
        } else {
            (Vec::new(), obj::HEADER_SECTION.as_bytes().to_vec())
        };
        let hdr = o.add_section(seg, name, SectionKind::ReadOnlyData);
        o.append_section_data(hdr, &[0x5a; HEADER_SIZE], 8);
        let imitation = o.write().unwrap();
        let e = refused_without_mapping(&imitation);
        assert!(
            matches!(e, LoadError::Header(DecodeError::BadMagic)),
            "{format:?}: {e}"
        );
    }
    for junk in [&b""[..], b"\x7fELF", b"\xcf\xfa\xed\xfe", &[0u8; 4096]] {
        let e = refused_without_mapping(junk);
        assert!(matches!(e, LoadError::NotAnObject(_)), "{e}");
    }
}

#[test]
fn a_header_with_a_valid_checksum_but_foreign_fields_is_refused() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The checksum proves the bytes are as written, not that this host can run them: the
    // other header checks still apply after it.
    let bytes = artifact_bytes();
    let a = load(&bytes).unwrap();
    let e = load_error(&with_header(&bytes, a.header().clone(), |h| {
        h.layout_hash ^= 1
    }));
    assert!(matches!(e, LoadError::LayoutMismatch { .. }), "{e}");
    // A flag this loader does not know may mean code it cannot run safely (say, loops that
    // only a mechanism it lacks can stop).
    let e = load_error(&with_header(&bytes, a.header().clone(), |h| {
        h.flags |= 1 << 31
    }));
    assert!(matches!(e, LoadError::UnknownFlags(0x8000_0000)), "{e}");
    assert!(e.to_string().contains("does not know"), "{e}");
    let e = load_error(&with_header(&bytes, a.header().clone(), |h| {
        h.flags = metadata::flags::SIGNAL_INTERRUPTION;
    }));
    assert!(matches!(e, LoadError::InconsistentFlags(_)), "{e}");
}

/// `bytes` with header `h` changed by `change` and the checksum recomputed the way the
/// compiler does, so only the changed field is wrong.
fn with_header(
    bytes: &[u8],
    mut h: ArtifactHeader,
    change: impl FnOnce(&mut ArtifactHeader),
) -> Vec<u8> {
    change(&mut h);
    let off = header_offset(bytes);
    let mut b = bytes.to_vec();
    b[off..off + HEADER_SIZE].copy_from_slice(&h.encode());
    let file = object::File::parse(&*b).unwrap();
    let sec = |n: &str| file.section_by_name(n).map(|s| s.data().unwrap().to_vec());
    let (meta, traps, data, text) = (
        sec(obj::META_SECTION).unwrap(),
        sec(obj::TRAPS_SECTION).unwrap(),
        sec(obj::DATA_SECTION).unwrap_or_default(),
        sec(obj::TEXT_SECTION).unwrap(),
    );
    h.checksum = metadata::checksum(&h.encode(), &meta, &traps, &data, &text);
    b[off..off + HEADER_SIZE].copy_from_slice(&h.encode());
    b
}

/// A file in the temp dir holding `bytes`, removed on drop.
struct TempArtifact(std::path::PathBuf);

impl TempArtifact {
    fn new(tag: &str, bytes: &[u8]) -> TempArtifact {
        let path =
            std::env::temp_dir().join(format!("wasmc-integrity-{}-{tag}.o", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempArtifact(path)
    }

    /// `from_file` of the current contents. Sound as for [`load`]: the bytes are our
    /// compiler's output or a damaged copy of it, and the file does not change while loaded.
    fn load(&self) -> Result<Artifact, wasmc_loader::Error> {
        // SAFETY: see above.
        unsafe { Artifact::from_file(&self.0) }
    }
}

impl Drop for TempArtifact {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A small artifact file is read, not mapped: only its code is mapped, read+execute, from the
/// file (file-backed, so its pages are shared by every process that loads it).
#[test]
fn a_small_artifact_file_maps_only_its_code() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = artifact_bytes();
    assert!(bytes.len() < 64 * 1024, "{} bytes", bytes.len());
    let file = TempArtifact::new("small", &bytes);
    let artifact = file.load().unwrap();
    check_runs(&artifact);
    if cfg!(target_os = "linux") {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let name = file.0.to_str().unwrap();
        let perms: Vec<&str> = maps
            .lines()
            .filter(|l| l.ends_with(name))
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        assert_eq!(perms, ["r-xs"], "mappings of the artifact file:\n{maps}");
    }
    drop(artifact);
}

/// Loading from a file refuses every truncation with the same error as loading the same bytes
/// from memory (a damaged small file takes the general path, which names the error).
#[test]
fn truncated_files_are_refused_like_truncated_bytes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = artifact_bytes();
    let file = TempArtifact::new("truncated", &bytes);
    for n in (0..bytes.len()).step_by(7) {
        std::fs::write(&file.0, &bytes[..n]).unwrap();
        let from_file = match file.load() {
            Ok(_) => panic!("a file truncated to {n} bytes was accepted"),
            Err(e) => e.to_string(),
        };
        let from_bytes = load_error(&bytes[..n]).to_string();
        assert!(
            from_file.contains(&from_bytes) || n == 0,
            "{n} bytes: from a file `{from_file}`, from memory `{from_bytes}`"
        );
    }
}
