//! [`ArtifactInfo`]: what an artifact holds, read without mapping or running any of it.
//!
//! This is the loader's parser minus the checks that compare the artifact with this host
//! (target, CPU features, vmctx layout, memory configuration), so an artifact built for another
//! platform can be described too. The file's own consistency is checked in full: magic, format
//! version, the whole-artifact checksum, the metadata hash and decoding, every offset.

use wasmc_abi::metadata::{ArtifactHeader, ModuleMetadata};

use super::sections::{self, Integrity};
use crate::error::{Error, LoadError};

/// A checked description of an artifact: its header, its module metadata and the sizes of its
/// sections. Safe to produce from any bytes: nothing is mapped executable or run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ArtifactInfo {
    /// The header: format and compiler version, target, CPU features, flags, checksum.
    pub header: ArtifactHeader,
    /// Imports, exports, types, memories, tables, globals, segments, function layout.
    pub meta: ModuleMetadata,
    /// `"ELF"` or `"Mach-O"`.
    pub object_format: &'static str,
    /// Size of the whole file in bytes.
    pub file_size: usize,
    /// Size of the metadata section in bytes.
    pub meta_size: usize,
    /// Size of `.text` (all functions and trampolines) in bytes.
    pub text_size: usize,
    /// Size of the data section (all data segments) in bytes.
    pub data_size: usize,
    /// Number of trap sites recorded in the trap table.
    pub trap_sites: usize,
}

impl ArtifactInfo {
    /// Parses and checks `bytes` (verifying the whole-artifact checksum) and describes them.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] (inside [`Error`]) for anything that is not a consistent wasmc
    /// artifact of this format version, exactly as loading would report it; but no error for
    /// an artifact built for another target, CPU or loader layout.
    pub fn parse(bytes: &[u8]) -> Result<ArtifactInfo, Error> {
        let parsed = sections::parse_with(bytes, Integrity::Verify, false)?;
        let object_format = if parsed.header.target.is_macho() {
            "Mach-O"
        } else {
            "ELF"
        };
        // Validated by the parser: at least 4 bytes, then 5 bytes per site.
        let trap_sites = parsed.traps.len().saturating_sub(4) / 5;
        Ok(ArtifactInfo {
            header: parsed.header,
            meta: parsed.meta,
            object_format,
            file_size: bytes.len(),
            meta_size: parsed.meta_len,
            text_size: parsed.text.len(),
            data_size: parsed.data.len(),
            trap_sites,
        })
    }

    /// Reads and describes the file at `path`.
    ///
    /// # Errors
    ///
    /// As [`ArtifactInfo::parse`], plus [`LoadError::Io`] if the file cannot be read.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<ArtifactInfo, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        ArtifactInfo::parse(&bytes)
    }
}
