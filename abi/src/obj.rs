//! Section and symbol names of a wasmc artifact, and the image of a linkable one. No other
//! file spells them out.
//!
//! | section (ELF)  | Mach-O            | writer                     | reader                  |
//! |----------------|-------------------|----------------------------|-------------------------|
//! | `.wasmc.hdr`   | `__WASMC,__hdr`   | `compiler/src/artifact.rs` | loader, checked first   |
//! | `.wasmc.meta`  | `__WASMC,__meta`  | `compiler/src/artifact.rs` | loader, after the header |
//! | `.wasmc.traps` | `__WASMC,__traps` | `compiler/src/artifact.rs` | loader's signal handler |
//! | `.wasmc.data`  | `__WASMC,__data`  | `compiler/src/artifact.rs` | loader, data segments   |
//! | `.text`        | `__TEXT,__text`   | `compiler/src/artifact.rs` | loader, mapped RX       |
//!
//! `.text` holds every function, import stub and trampoline, laid out by the compiler with all
//! calls already resolved: an artifact has no relocations against `.text` and no undefined
//! symbols, and the loader refuses one that does.
//!
//! A *linkable* artifact (compiled with a link prefix, for linking into a native program with
//! the system linker; docs/STATIC_LINKING.md) has in addition a `.wasmc.image` section (an
//! [`ImageParts`] encoding of header, metadata, trap table and data, read by
//! `Artifact::from_linked`) and four global symbols named by [`LinkSymbols`].

use crate::metadata::DecodeError;

/// The artifact header section (an `ArtifactHeader`).
pub const HEADER_SECTION: &str = ".wasmc.hdr";
/// The module metadata section (a `ModuleMetadata`).
pub const META_SECTION: &str = ".wasmc.meta";
/// The trap table section (see `metadata::encode_trap_table`).
pub const TRAPS_SECTION: &str = ".wasmc.traps";
/// Bytes of data segments.
pub const DATA_SECTION: &str = ".wasmc.data";
/// The code section.
pub const TEXT_SECTION: &str = ".text";

/// The period of the placement of large active data segments in the artifact file: the
/// compiler pads `.wasmc.data` so that the bytes of such a segment sit at a *file* offset
/// congruent to its memory offset modulo `COW_ALIGN` (and then aligns the section to it), so
/// that the loader can map whole pages of the segment straight from the artifact file into
/// linear memory (copy-on-write) instead of copying them. 64 KiB is a multiple of every host
/// page size wasmc supports (4 KiB on x86-64, 16 KiB on macOS, up to 64 KiB on aarch64
/// Linux), and also the minimum length of a segment that gets this placement: shorter ones
/// stay packed, as padding them would cost more than copying them. A module without such a
/// segment pays nothing.
pub const COW_ALIGN: u64 = 64 * 1024;

/// The image section of a linkable artifact (see [`ImageParts`]).
pub const IMAGE_SECTION: &str = ".wasmc.image";

/// Mach-O segment of the wasmc sections.
pub const MACHO_SEGMENT: &str = "__WASMC";

/// The Mach-O `(segment, section)` of an ELF section name above.
pub fn macho_section(elf_name: &str) -> Option<(&'static str, &'static str)> {
    Some(match elf_name {
        HEADER_SECTION => (MACHO_SEGMENT, "__hdr"),
        META_SECTION => (MACHO_SEGMENT, "__meta"),
        TRAPS_SECTION => (MACHO_SEGMENT, "__traps"),
        DATA_SECTION => (MACHO_SEGMENT, "__data"),
        TEXT_SECTION => ("__TEXT", "__text"),
        // In `__TEXT` so that it is read-only in the linked program.
        IMAGE_SECTION => ("__TEXT", "__wasmc_image"),
        _ => return None,
    })
}

/// The one global symbol of an artifact, on its header.
pub const HEADER_SYMBOL: &str = "wasmc_module_header";

/// Symbol of a defined function: its name from the name section when it has one, otherwise
/// `wasm_function_<index>`. The index is appended to a name so that symbols stay unique.
pub fn func_symbol(func_index: u32, name: Option<&str>) -> String {
    match name {
        Some(n) if !n.is_empty() => format!("{n}.{func_index}"),
        _ => format!("wasm_function_{func_index}"),
    }
}

/// Symbol of the import stub of an imported function.
pub fn import_stub_symbol(module: &str, name: &str) -> String {
    format!("wasmc_import.{module}.{name}")
}

/// Symbol of the host-to-wasm entry trampoline of a function.
pub fn entry_trampoline_symbol(func_index: u32) -> String {
    format!("wasmc_entry.{func_index}")
}

/// Symbol of the wasm-to-host trampoline of a type.
pub fn host_trampoline_symbol(type_index: u32) -> String {
    format!("wasmc_to_host.{type_index}")
}

/// Magic at the start of a `.wasmc.image` section; the last byte is the image format version.
pub const IMAGE_MAGIC: [u8; 8] = *b"WASMCIM\x01";

/// Bytes before the header in an image: the magic and four little-endian `u64` lengths
/// (metadata, trap table, data, text).
pub const IMAGE_PREFIX_SIZE: usize = 40;

/// The contents of a `.wasmc.image` section: everything the loader reads from an artifact
/// except the code, in one allocated read-only blob that a linker keeps in the program.
///
/// Layout: [`IMAGE_MAGIC`], the lengths of metadata, trap table, data and text (`u64` LE
/// each), then the header ([`crate::metadata::HEADER_SIZE`] bytes), the metadata, the trap
/// table and the data, each starting at an offset that is a multiple of 8 (zero padding in
/// between, none after the data). The code is not in the image; `text_len` says how long the
/// linked `.text` must be. The bytes are the same as in the artifact's own sections, so the
/// header's checksum covers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageParts<'a> {
    /// The `.wasmc.hdr` bytes.
    pub header: &'a [u8],
    /// The `.wasmc.meta` bytes.
    pub meta: &'a [u8],
    /// The `.wasmc.traps` bytes.
    pub traps: &'a [u8],
    /// The `.wasmc.data` bytes.
    pub data: &'a [u8],
    /// Length of `.text` in bytes.
    pub text_len: u64,
}

fn align8(n: usize) -> Option<usize> {
    n.checked_add(7).map(|n| n & !7)
}

impl<'a> ImageParts<'a> {
    /// Encodes the image.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            IMAGE_PREFIX_SIZE
                + self.header.len()
                + self.meta.len()
                + self.traps.len()
                + self.data.len()
                + 24,
        );
        out.extend_from_slice(&IMAGE_MAGIC);
        for len in [
            self.meta.len() as u64,
            self.traps.len() as u64,
            self.data.len() as u64,
            self.text_len,
        ] {
            out.extend_from_slice(&len.to_le_bytes());
        }
        for (i, part) in [self.header, self.meta, self.traps, self.data]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                out.resize(out.len().next_multiple_of(8), 0);
            }
            out.extend_from_slice(part);
        }
        out
    }

    /// Decodes an image, checking that every part lies inside `bytes` and that nothing
    /// follows the data. The parts themselves are not checked here.
    ///
    /// # Errors
    ///
    /// [`DecodeError::BadMagic`] when `bytes` is not an image (or one of another image
    /// version), [`DecodeError::Truncated`] / [`DecodeError::TrailingBytes`] when the lengths
    /// do not match the bytes.
    pub fn decode(bytes: &'a [u8]) -> Result<ImageParts<'a>, DecodeError> {
        let truncated = DecodeError::Truncated {
            what: "linked image",
        };
        let prefix = bytes.get(..IMAGE_PREFIX_SIZE).ok_or(truncated.clone())?;
        if prefix[..8] != IMAGE_MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let len_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&prefix[8 + 8 * i..16 + 8 * i]);
            u64::from_le_bytes(b)
        };
        let lens = [
            crate::metadata::HEADER_SIZE as u64,
            len_at(0),
            len_at(1),
            len_at(2),
        ];
        let mut parts = [&bytes[..0]; 4];
        let mut at = IMAGE_PREFIX_SIZE;
        for (i, len) in lens.into_iter().enumerate() {
            if i > 0 {
                at = align8(at).ok_or(truncated.clone())?;
            }
            let end = usize::try_from(len)
                .ok()
                .and_then(|l| at.checked_add(l))
                .ok_or(truncated.clone())?;
            parts[i] = bytes.get(at..end).ok_or(truncated.clone())?;
            at = end;
        }
        if at != bytes.len() {
            return Err(DecodeError::TrailingBytes);
        }
        let [header, meta, traps, data] = parts;
        Ok(ImageParts {
            header,
            meta,
            traps,
            data,
            text_len: len_at(3),
        })
    }
}

/// Longest link prefix accepted (symbols stay readable and far below any linker limit).
pub const MAX_LINK_PREFIX_LEN: usize = 64;

/// Whether `prefix` can start the global symbols of a linkable artifact: a C identifier
/// (`[A-Za-z_][A-Za-z0-9_]*`) of at most [`MAX_LINK_PREFIX_LEN`] bytes.
pub fn is_link_prefix(prefix: &str) -> bool {
    let mut chars = prefix.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && prefix.len() <= MAX_LINK_PREFIX_LEN
}

/// A link prefix made from a file stem: every character that cannot be in a C identifier
/// becomes `_`, a leading digit gets a `_` in front, an empty stem becomes `wasm`, and the
/// result is cut to [`MAX_LINK_PREFIX_LEN`]. Always satisfies [`is_link_prefix`].
pub fn link_prefix_from_stem(stem: &str) -> String {
    let mut s: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() {
        s.push_str("wasm");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s.truncate(MAX_LINK_PREFIX_LEN);
    s
}

/// The global symbols of a linkable artifact with link prefix `prefix` (as the host program
/// spells them; on Mach-O the object file adds the usual leading underscore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSymbols {
    /// `<prefix>_text`: the first byte of `.text`.
    pub text: String,
    /// `<prefix>_text_end`: one past the last byte of `.text`.
    pub text_end: String,
    /// `<prefix>_image`: the first byte of the `.wasmc.image` section.
    pub image: String,
    /// `<prefix>_image_end`: one past the last byte of the image.
    pub image_end: String,
}

impl LinkSymbols {
    /// The symbol names for `prefix` (which should satisfy [`is_link_prefix`]).
    pub fn new(prefix: &str) -> LinkSymbols {
        LinkSymbols {
            text: format!("{prefix}_text"),
            text_end: format!("{prefix}_text_end"),
            image: format!("{prefix}_image"),
            image_end: format!("{prefix}_image_end"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_unique_per_index() {
        assert_ne!(func_symbol(1, Some("f")), func_symbol(2, Some("f")));
        assert_eq!(func_symbol(3, None), "wasm_function_3");
        assert_eq!(func_symbol(3, Some("")), "wasm_function_3");
    }

    #[test]
    fn every_section_has_a_macho_name_of_legal_length() {
        for s in [
            HEADER_SECTION,
            META_SECTION,
            TRAPS_SECTION,
            DATA_SECTION,
            TEXT_SECTION,
            IMAGE_SECTION,
        ] {
            let (seg, sect) = macho_section(s).unwrap();
            assert!(seg.len() <= 16 && sect.len() <= 16);
        }
    }

    #[test]
    fn images_round_trip_and_bad_ones_are_refused() {
        let header = [7u8; crate::metadata::HEADER_SIZE];
        let parts = ImageParts {
            header: &header,
            meta: &[1, 2, 3],
            traps: &[4; 9],
            data: &[5],
            text_len: 77,
        };
        let bytes = parts.encode();
        assert_eq!(ImageParts::decode(&bytes), Ok(parts));
        for cut in [0, 8, IMAGE_PREFIX_SIZE, bytes.len() - 1] {
            assert!(ImageParts::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(ImageParts::decode(&longer), Err(DecodeError::TrailingBytes));
        let mut bad = bytes.clone();
        bad[0] ^= 1;
        assert_eq!(ImageParts::decode(&bad), Err(DecodeError::BadMagic));
        let mut huge = bytes;
        huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(ImageParts::decode(&huge).is_err());
    }

    #[test]
    fn link_prefixes_are_c_identifiers() {
        for (stem, prefix) in [
            ("plugin", "plugin"),
            ("my-plugin.v2", "my_plugin_v2"),
            ("3d", "_3d"),
            ("", "wasm"),
            ("é", "_"),
        ] {
            assert_eq!(link_prefix_from_stem(stem), prefix);
            assert!(is_link_prefix(prefix));
        }
        assert!(!is_link_prefix("a-b") && !is_link_prefix("1a") && !is_link_prefix(""));
        assert!(is_link_prefix(&link_prefix_from_stem(&"x".repeat(200))));
        assert_eq!(LinkSymbols::new("p").image_end, "p_image_end");
    }
}
