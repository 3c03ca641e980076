//! Finding and checking the sections of an artifact object, ELF or Mach-O.
//!
//! Everything here is pure parsing of untrusted bytes with `object::read`: it never maps code
//! and never panics. The order of checks is the contract of `docs/ARCHITECTURE.md` §1: the
//! object structure only as far as needed to find the sections, the header's magic and
//! version, then the whole-artifact checksum (unless the caller asked to skip it, see
//! [`Integrity`]), then the rest of the header (compiler version, layout hash, target, CPU
//! features, guard),
//! the metadata hash, the metadata, trap table and data, then the code.

use std::ops::Range;

use object::{Object, ObjectSection, ObjectSymbol};
use wasmc_abi::metadata::{
    self, ArtifactHeader, Fnv64, HEADER_SIZE, ModuleMetadata, SegmentMode, Target,
};
use wasmc_abi::{DecodeError, obj};

use crate::error::LoadError;

/// Bytes of address space each 32-bit memory reserves (excluding its guard).
pub(crate) const MEMORY_RESERVATION: u64 = 1 << 32;
/// Bytes of inaccessible guard after each memory's reservation.
pub(crate) const MEMORY_GUARD: u64 = 32 << 20;

/// Whether loading verifies the whole-artifact checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Integrity {
    /// Hash every covered byte and compare with the header (the default).
    Verify,
    /// Skip the hash: the caller vouches for the bytes (`Artifact::*_unchecked`).
    Trust,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A checked artifact, still referring to the input bytes.
pub(crate) struct Parsed<'d> {
    pub header: ArtifactHeader,
    pub meta: ModuleMetadata,
    /// Size of the encoded metadata section.
    pub meta_len: usize,
    pub traps: Vec<u8>,
    /// The `.wasmc.data` section, inside the input bytes (empty when there is none).
    pub data: &'d [u8],
    /// File offsets of `.text`.
    pub text: Range<usize>,
}

pub(crate) fn find_section<'d, 'f>(
    file: &'f object::File<'d>,
    elf_name: &str,
) -> Option<object::Section<'d, 'f>> {
    if file.format() == object::BinaryFormat::MachO {
        let (seg, sect) = obj::macho_section(elf_name)?;
        file.sections()
            .find(|s| s.name() == Ok(sect) && s.segment_name() == Ok(Some(seg)))
    } else {
        file.section_by_name(elf_name)
    }
}

fn section_bytes<'d>(
    file: &object::File<'d>,
    name: &'static str,
) -> Result<Option<&'d [u8]>, LoadError> {
    match find_section(file, name) {
        None => Ok(None),
        Some(s) => s
            .data()
            .map(Some)
            .map_err(|e| LoadError::NotAnArtifact(format!("cannot read section {name}: {e}"))),
    }
}

/// The CPU features of this host, as `isa_features` bits.
fn host_features() -> u64 {
    #[allow(unused_mut, reason = "only some targets add bits")]
    let mut bits = 0u64;
    #[cfg(target_arch = "x86_64")]
    {
        use metadata::isa_features as f;
        let checks = [
            (f::X86_SSE3, std::arch::is_x86_feature_detected!("sse3")),
            (f::X86_SSSE3, std::arch::is_x86_feature_detected!("ssse3")),
            (f::X86_SSE41, std::arch::is_x86_feature_detected!("sse4.1")),
            (f::X86_SSE42, std::arch::is_x86_feature_detected!("sse4.2")),
            (f::X86_POPCNT, std::arch::is_x86_feature_detected!("popcnt")),
            (f::X86_AVX, std::arch::is_x86_feature_detected!("avx")),
            (f::X86_AVX2, std::arch::is_x86_feature_detected!("avx2")),
            (f::X86_BMI1, std::arch::is_x86_feature_detected!("bmi1")),
            (f::X86_BMI2, std::arch::is_x86_feature_detected!("bmi2")),
            (f::X86_LZCNT, std::arch::is_x86_feature_detected!("lzcnt")),
            (f::X86_FMA, std::arch::is_x86_feature_detected!("fma")),
        ];
        for (bit, present) in checks {
            if present {
                bits |= bit;
            }
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("lse") {
            bits |= metadata::isa_features::AARCH64_LSE;
        }
    }
    bits
}

/// Checks the header against this loader and host.
pub(crate) fn check_header(header: &ArtifactHeader) -> Result<(), LoadError> {
    // First: another compiler version may generate code that relies on runtime behaviour
    // this loader does not have, even with the same format and layout, and "rebuild it" is
    // the most useful thing to say about such an artifact.
    if header.compiler_version != metadata::COMPILER_VERSION {
        return Err(LoadError::CompilerVersion {
            found: header.compiler_version.clone(),
            expected: metadata::COMPILER_VERSION,
        });
    }
    let expected = wasmc_abi::vmoffsets::layout_hash();
    if header.layout_hash != expected {
        return Err(LoadError::LayoutMismatch {
            found: header.layout_hash,
            expected,
        });
    }
    match Target::host() {
        Some(h) if h == header.target => {}
        h => {
            return Err(LoadError::WrongTarget {
                artifact: header.target.to_string(),
                host: h.map_or_else(|| "an unsupported platform".to_string(), |t| t.to_string()),
            });
        }
    }
    let unknown = header.flags & !metadata::flags::ALL;
    if unknown != 0 {
        return Err(LoadError::UnknownFlags(unknown));
    }
    // Stopped by signal only makes sense for interruptible code; the compiler never writes
    // the one without the other.
    let by_signal = metadata::flags::SIGNAL_INTERRUPTION;
    if header.flags & (by_signal | metadata::flags::EPOCH_INTERRUPTION) == by_signal {
        return Err(LoadError::InconsistentFlags(header.flags));
    }
    let missing = header.isa_features & !host_features();
    if missing != 0 {
        let mut names = metadata::isa_features::names(missing);
        let known: u64 = metadata::isa_features::NAMES.iter().map(|(b, _)| b).sum();
        if missing & !known != 0 {
            names.push("unknown features");
        }
        return Err(LoadError::MissingCpuFeatures(names));
    }
    if header.memory_reservation > MEMORY_RESERVATION {
        return Err(LoadError::MemoryConfig {
            what: "memory reservation",
            artifact: header.memory_reservation,
            loader: MEMORY_RESERVATION,
        });
    }
    if header.memory_guard > MEMORY_GUARD {
        return Err(LoadError::MemoryConfig {
            what: "memory guard",
            artifact: header.memory_guard,
            loader: MEMORY_GUARD,
        });
    }
    Ok(())
}

/// File offsets of `.text`, checked to lie inside `bytes`; `0..0` when there is none.
fn text_range(file: &object::File<'_>, bytes: &[u8]) -> Result<Range<usize>, LoadError> {
    let Some(s) = find_section(file, obj::TEXT_SECTION) else {
        return Ok(0..0);
    };
    let (off, len) = s.file_range().unwrap_or((0, 0));
    if len != s.size() {
        return Err(LoadError::NotAnArtifact(format!(
            "{} has no file contents",
            obj::TEXT_SECTION
        )));
    }
    let start = usize::try_from(off).map_err(|_| bad_range("text"))?;
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| start.checked_add(l))
        .filter(|e| *e <= bytes.len())
        .ok_or_else(|| bad_range("text"))?;
    Ok(start..end)
}

fn required<'d>(file: &object::File<'d>, name: &'static str) -> Result<&'d [u8], LoadError> {
    section_bytes(file, name)?
        .ok_or_else(|| LoadError::NotAnArtifact(format!("the object has no {name} section")))
}

/// Parses and checks an artifact for loading on this host.
pub(crate) fn parse(bytes: &[u8], integrity: Integrity) -> Result<Parsed<'_>, LoadError> {
    parse_with(bytes, integrity, true)
}

/// Parses and checks an artifact; with `host_checks` false, skips the checks that compare the
/// header with this loader and host (layout, target, CPU features, memory configuration), for
/// describing an artifact built elsewhere. Everything about the file's own consistency is
/// checked either way.
pub(crate) fn parse_with(
    bytes: &[u8],
    integrity: Integrity,
    host_checks: bool,
) -> Result<Parsed<'_>, LoadError> {
    let file = object::File::parse(bytes).map_err(|e| LoadError::NotAnObject(e.to_string()))?;
    let hdr = required(&file, obj::HEADER_SECTION)?;
    // Magic and version first: a file of another format version may lay out its header and
    // checksum differently, and deserves "rebuild it", not "corrupt".
    let stored = ArtifactHeader::check_prefix(hdr).map_err(LoadError::Header)?;
    let meta_bytes = required(&file, obj::META_SECTION)?;
    let traps = required(&file, obj::TRAPS_SECTION)?;
    let data = section_bytes(&file, obj::DATA_SECTION)?.unwrap_or(&[]);
    let text = text_range(&file, bytes)?;
    if integrity == Integrity::Verify {
        let hdr: &[u8; HEADER_SIZE] = hdr
            .try_into()
            .map_err(|_| LoadError::Header(wasmc_abi::DecodeError::Truncated { what: "header" }))?;
        let found = metadata::checksum(hdr, meta_bytes, traps, data, &bytes[text.clone()]);
        if found != stored {
            return Err(LoadError::Checksum {
                expected: hex(&stored),
                found: hex(&found),
            });
        }
    }
    let header = ArtifactHeader::decode(hdr).map_err(LoadError::Header)?;
    if host_checks {
        check_header(&header)?;
    }
    let expected_format = if header.target.is_macho() {
        object::BinaryFormat::MachO
    } else {
        object::BinaryFormat::Elf
    };
    let expected_arch = if header.target.is_aarch64() {
        object::Architecture::Aarch64
    } else {
        object::Architecture::X86_64
    };
    if file.format() != expected_format || file.architecture() != expected_arch {
        return Err(LoadError::WrongTarget {
            artifact: format!("{:?} {:?} object", file.architecture(), file.format()),
            host: header.target.to_string(),
        });
    }

    let found = Fnv64::hash(meta_bytes);
    if found != header.meta_hash {
        return Err(LoadError::MetaHash {
            expected: header.meta_hash,
            found,
        });
    }
    let meta = ModuleMetadata::decode(meta_bytes).map_err(|error| LoadError::Corrupt {
        section: obj::META_SECTION,
        error,
    })?;
    metadata::validate_trap_table(traps).map_err(|error| LoadError::Corrupt {
        section: obj::TRAPS_SECTION,
        error,
    })?;
    if let Some(s) = find_section(&file, obj::TEXT_SECTION)
        && s.relocations().next().is_some()
    {
        return Err(LoadError::Relocations(format!(
            "{} has relocations",
            obj::TEXT_SECTION
        )));
    }
    if let Some(s) = file.symbols().find(|s| s.is_undefined()) {
        return Err(LoadError::Relocations(format!(
            "undefined symbol `{}`",
            s.name().unwrap_or("?")
        )));
    }
    check_offsets(&meta, text.len(), data.len())?;
    Ok(Parsed {
        header,
        meta,
        meta_len: meta_bytes.len(),
        traps: traps.to_vec(),
        data,
        text,
    })
}

fn bad_range(what: &str) -> LoadError {
    LoadError::NotAnArtifact(format!("{what} section lies outside the file"))
}

/// Checks that every code offset in the metadata lies inside `.text` and every data segment
/// inside `.wasmc.data`: after this the loader may form pointers from them.
pub(crate) fn check_offsets(
    meta: &ModuleMetadata,
    text_len: usize,
    data_len: usize,
) -> Result<(), LoadError> {
    let in_text = |off: u32, len: u32| {
        let (off, len) = (off as usize, len as usize);
        off < text_len && off.checked_add(len).is_some_and(|e| e <= text_len)
    };
    for (i, f) in meta.defined_funcs.iter().enumerate() {
        if !in_text(f.text_off, f.text_len) {
            return Err(LoadError::BadMetadata(format!(
                "defined function {i} at {:#x}+{:#x} lies outside .text ({text_len:#x} bytes)",
                f.text_off, f.text_len
            )));
        }
        if f.entry_off != metadata::NONE && !in_text(f.entry_off, 1) {
            return Err(LoadError::BadMetadata(format!(
                "entry trampoline of defined function {i} at {:#x} lies outside .text",
                f.entry_off
            )));
        }
    }
    for (t, &off) in meta.host_trampolines.iter().enumerate() {
        if off != metadata::NONE && !in_text(off, 1) {
            return Err(LoadError::BadMetadata(format!(
                "host trampoline of type {t} at {off:#x} lies outside .text"
            )));
        }
    }
    for (i, d) in meta.datas.iter().enumerate() {
        let end = (d.data_off as usize).checked_add(d.data_len as usize);
        if end.is_none_or(|e| e > data_len) {
            return Err(LoadError::BadMetadata(format!(
                "data segment {i} at {:#x}+{:#x} lies outside {} ({data_len:#x} bytes)",
                d.data_off,
                d.data_len,
                obj::DATA_SECTION
            )));
        }
        if matches!(d.mode, SegmentMode::Declared) {
            return Err(LoadError::Corrupt {
                section: obj::META_SECTION,
                error: DecodeError::Invalid {
                    what: "declared data segment",
                    value: i as u64,
                },
            });
        }
    }
    Ok(())
}
