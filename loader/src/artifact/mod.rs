//! [`Artifact`]: a checked wasmc artifact with its code mapped read+execute.
//!
//! Loading parses the object (`sections.rs`), verifies the whole-artifact checksum (unless the
//! caller explicitly skips it with an `*_unchecked` constructor), checks everything the loader
//! will later trust, then publishes `.text`: in place (an `mprotect` of the private file
//! mapping) when its file offset is page aligned, otherwise by copying it into fresh pages
//! that are made read+execute after the copy. A file under 64 KiB is read with one `read`
//! instead and only its `.text` is mapped, read+execute, from the file (`load_small_file`):
//! four system calls in all, which is most of a small plugin's cold start. Code is never
//! writable and executable at once.

mod inspect;
mod linked;
mod sections;

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use wasmc_abi::metadata::{ArtifactHeader, ModuleMetadata};

use crate::error::{Error, LoadError};
use crate::mmap::{FileCode, FileMap, Mmap, Prot};
use crate::type_registry;

pub use inspect::ArtifactInfo;
use sections::Integrity;
pub(crate) use sections::{MEMORY_GUARD, MEMORY_RESERVATION};

/// A loaded artifact, ready to instantiate any number of times in any store.
///
/// Cloning is cheap (a reference count); an artifact is `Send + Sync`.
#[derive(Clone)]
pub struct Artifact {
    pub(crate) inner: Arc<ArtifactInner>,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifact")
            .field("name", &self.inner.meta.name)
            .field("target", &self.inner.header.target)
            .field("text_len", &self.inner.text_len)
            .finish()
    }
}

/// Keeps the published code mapped.
#[derive(Debug)]
#[expect(
    dead_code,
    reason = "the mappings are held only to keep the code alive"
)]
enum Code {
    /// `.text` made R+X inside the private file mapping (shared with [`DataBytes::File`]).
    File(Arc<FileMap>),
    /// `.text` of a small artifact mapped R+X from the file on its own.
    FileText(FileCode),
    /// A copy of `.text` in anonymous R+X pages.
    Anon(Mmap),
    /// No code at all.
    Empty,
    /// `.text` linked into the program's own executable pages (`Artifact::from_linked`):
    /// nothing to keep alive.
    Linked,
}

/// Where the bytes of `.wasmc.data` live: never copied from a file or from the program.
#[derive(Debug)]
pub(crate) enum DataBytes {
    /// A copy (`Artifact::from_bytes`, which does not keep its input).
    Owned(Vec<u8>),
    /// Bytes of the program itself (`from_static`, `from_linked`).
    Static(&'static [u8]),
    /// `range` of the private file mapping. The file stays open so that instantiation can
    /// map the pages of large segments from it copy-on-write (`memory::init_data`).
    File {
        /// The whole file, mapped read-only.
        map: Arc<FileMap>,
        /// The open artifact file.
        file: std::fs::File,
        /// File offsets of `.wasmc.data`.
        range: Range<usize>,
    },
}

impl DataBytes {
    /// The section's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            DataBytes::Owned(v) => v,
            DataBytes::Static(s) => s,
            // In bounds: checked by `sections::parse` against the mapped file.
            DataBytes::File { map, range, .. } => map.bytes().get(range.clone()).unwrap_or(&[]),
        }
    }

    /// The artifact file and the file offset of the section's first byte, if the bytes come
    /// from a file.
    pub(crate) fn file(&self) -> Option<(&std::fs::File, u64)> {
        match self {
            DataBytes::File { file, range, .. } => Some((file, range.start as u64)),
            DataBytes::Owned(_) | DataBytes::Static(_) => None,
        }
    }
}

pub(crate) struct ArtifactInner {
    pub(crate) header: ArtifactHeader,
    pub(crate) meta: ModuleMetadata,
    /// Canonical type id of every type index.
    pub(crate) type_ids: Vec<u32>,
    /// The trap table bytes (validated).
    pub(crate) traps: Vec<u8>,
    /// The data segment bytes.
    pub(crate) data: DataBytes,
    /// Address of `.text` (as an integer so the artifact is `Send + Sync`).
    pub(crate) text: usize,
    pub(crate) text_len: usize,
    /// `(text_off, text_len, func_index)` of every defined function, sorted by offset.
    func_ranges: Vec<(u32, u32, u32)>,
    _code: Code,
}

impl Artifact {
    /// Loads an artifact from a file, mapping its code in place when possible.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] (inside [`Error`]) naming what is wrong: the file cannot be read, it is
    /// not an object or not a wasmc artifact, it was written by another format version, its
    /// checksum does not match its contents ([`LoadError::Checksum`]: it was damaged after it
    /// was written), it was written for another layout, target or CPU, its metadata is
    /// corrupt, or its code has relocations. Nothing of a refused file is ever made
    /// executable.
    ///
    /// # Safety
    ///
    /// Loading an artifact is running native code. The checks above catch accidents (a wrong
    /// or damaged file), not malice: an artifact can contain any machine code, and a crafted
    /// one can do anything the process can. Only load artifacts produced by a trusted wasmc
    /// compiler from the WebAssembly you mean to run. In addition, the file must not be
    /// modified while the artifact (or any instance of it) is alive: its pages are mapped
    /// privately but not copied (the code, and the pages of large data segments, which are
    /// mapped into the linear memories of its instances).
    pub unsafe fn from_file(path: impl AsRef<Path>) -> Result<Artifact, Error> {
        // SAFETY: forwarded from the caller.
        unsafe { Self::load_file(path.as_ref(), Integrity::Verify) }
    }

    /// Like [`Artifact::from_file`], but without hashing the whole file against the checksum
    /// recorded in its header: faster for large artifacts, at the price of not noticing a
    /// file damaged on disk or in transit. Every other check still runs (magic, version,
    /// layout, target, CPU features, the metadata's own hash, every offset and count), so a
    /// damaged file may still be refused; but damage to the code, the trap table or the data
    /// segments goes unnoticed and runs.
    ///
    /// # Errors
    ///
    /// As for [`Artifact::from_file`], except [`LoadError::Checksum`].
    ///
    /// # Safety
    ///
    /// As for [`Artifact::from_file`]; in addition the caller vouches that the file is
    /// exactly as the compiler wrote it, for example because it verified it with
    /// [`Artifact::from_file`] earlier and the file has not changed since.
    pub unsafe fn from_file_unchecked(path: impl AsRef<Path>) -> Result<Artifact, Error> {
        // SAFETY: forwarded from the caller.
        unsafe { Self::load_file(path.as_ref(), Integrity::Trust) }
    }

    /// # Safety
    ///
    /// As for [`Artifact::from_file`].
    unsafe fn load_file(path: &Path, integrity: Integrity) -> Result<Artifact, Error> {
        let io = |source| LoadError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: forwarded from the caller.
        if let Some(artifact) = unsafe { Self::load_small_file(&file, integrity) } {
            return Ok(artifact);
        }
        // SAFETY: the caller promises not to modify the file while it is mapped.
        let map = Arc::new(unsafe { FileMap::new(&file) }.map_err(io)?);
        let parsed = sections::parse(map.bytes(), integrity)?;
        let text = parsed.text.clone();
        // The data section is a sub-slice of the mapping (the parser borrows its input).
        let start = (parsed.data.as_ptr() as usize).wrapping_sub(map.bytes().as_ptr() as usize);
        let range = start..start.wrapping_add(parsed.data.len());
        let same = map
            .bytes()
            .get(range.clone())
            .is_some_and(|s| std::ptr::eq(s, parsed.data));
        let data = if same {
            DataBytes::File {
                map: Arc::clone(&map),
                file,
                range,
            }
        } else {
            DataBytes::Owned(parsed.data.to_vec())
        };
        let aligned = text.start.is_multiple_of(crate::mmap::page_size());
        if !text.is_empty() && aligned && map.make_exec(text.clone()).is_ok() {
            let addr = map.bytes()[text.start..].as_ptr() as usize;
            let code = Code::File(Arc::clone(&map));
            return Ok(Artifact::finish(parsed, data, addr, code));
        }
        // Unaligned text, or a file system mounted noexec: copy instead.
        let (addr, code) = copy_text(&map.bytes()[text])?;
        Ok(Artifact::finish(parsed, data, addr, code))
    }

    /// The fast path of [`Artifact::load_file`] for artifacts under [`SMALL_FILE`] bytes (a
    /// typical plugin): one `read` of the whole file instead of `statx`, `mmap` of the file,
    /// `mprotect` of its text and the page faults of parsing it, then `.text` alone mapped
    /// read+execute from the file (still file-backed and shared, never patched), with its page
    /// tables filled at once. Such an artifact has no data segment large enough to be mapped
    /// copy-on-write (the compiler only places segments of 64 KiB or more for that), so the
    /// file is not kept open. `None` if the file is larger, or anything at all is wrong: the
    /// general path then loads it, or names the error.
    ///
    /// # Safety
    ///
    /// As for [`Artifact::from_file`].
    unsafe fn load_small_file(file: &std::fs::File, integrity: Integrity) -> Option<Artifact> {
        let bytes = crate::mmap::read_small(file, SMALL_FILE).ok()??;
        let parsed = sections::parse(&bytes, integrity).ok()?;
        let text = parsed.text.clone();
        let data = DataBytes::Owned(parsed.data.to_vec());
        if !text.is_empty() {
            // SAFETY: forwarded from the caller (the file is not modified while mapped).
            if let Ok(code) = unsafe { FileCode::new(file, text.start as u64, text.len(), true) } {
                let addr = code.addr();
                return Some(Artifact::finish(parsed, data, addr, Code::FileText(code)));
            }
        }
        // No code, unaligned text, or a file system mounted noexec: copy instead.
        let (addr, code) = copy_text(&bytes[text]).ok()?;
        Some(Artifact::finish(parsed, data, addr, code))
    }

    /// Loads an artifact from bytes, copying its code into fresh executable pages.
    ///
    /// # Errors
    ///
    /// As for [`Artifact::from_file`].
    ///
    /// # Safety
    ///
    /// Loading an artifact is running native code: arbitrary bytes that pass the integrity
    /// checks could replace valid compiled code with any other code. Only load bytes produced
    /// by a trusted wasmc compiler.
    pub unsafe fn from_bytes(bytes: &[u8]) -> Result<Artifact, Error> {
        // SAFETY: forwarded from the caller.
        unsafe { Self::load_bytes(bytes, Integrity::Verify) }
    }

    /// Like [`Artifact::from_bytes`], but without hashing the bytes against the checksum
    /// recorded in the header; see [`Artifact::from_file_unchecked`] for what is still
    /// checked and what is not.
    ///
    /// # Errors
    ///
    /// As for [`Artifact::from_bytes`], except [`LoadError::Checksum`].
    ///
    /// # Safety
    ///
    /// As for [`Artifact::from_bytes`]; in addition the caller vouches that the bytes are
    /// exactly as the compiler wrote them.
    pub unsafe fn from_bytes_unchecked(bytes: &[u8]) -> Result<Artifact, Error> {
        // SAFETY: forwarded from the caller.
        unsafe { Self::load_bytes(bytes, Integrity::Trust) }
    }

    /// # Safety
    ///
    /// As for [`Artifact::from_bytes`].
    unsafe fn load_bytes(bytes: &[u8], integrity: Integrity) -> Result<Artifact, Error> {
        let parsed = sections::parse(bytes, integrity)?;
        let data = DataBytes::Owned(parsed.data.to_vec());
        let (addr, code) = copy_text(&bytes[parsed.text.clone()])?;
        Ok(Artifact::finish(parsed, data, addr, code))
    }

    /// As [`Artifact::load_bytes`] with the checksum verified, but the data segments stay
    /// where they are in the program's own bytes instead of being copied.
    ///
    /// # Safety
    ///
    /// As for [`Artifact::from_bytes`].
    pub(crate) unsafe fn load_static(bytes: &'static [u8]) -> Result<Artifact, Error> {
        let parsed = sections::parse(bytes, Integrity::Verify)?;
        let data = DataBytes::Static(parsed.data);
        let (addr, code) = copy_text(&bytes[parsed.text.clone()])?;
        Ok(Artifact::finish(parsed, data, addr, code))
    }

    fn finish(p: sections::Parsed<'_>, data: DataBytes, text: usize, code: Code) -> Artifact {
        let type_ids = p.meta.types.iter().map(type_registry::intern).collect();
        let imported = p.meta.num_imported_funcs();
        let mut func_ranges: Vec<(u32, u32, u32)> = p
            .meta
            .defined_funcs
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let index = u32::try_from(i)
                    .unwrap_or(u32::MAX)
                    .saturating_add(imported);
                (f.text_off, f.text_len, index)
            })
            .collect();
        func_ranges.sort_unstable();
        Artifact {
            inner: Arc::new(ArtifactInner {
                header: p.header,
                meta: p.meta,
                type_ids,
                traps: p.traps,
                data,
                text,
                text_len: p.text.len(),
                func_ranges,
                _code: code,
            }),
        }
    }

    /// The module's metadata (imports, exports, types, ...).
    pub fn metadata(&self) -> &ModuleMetadata {
        &self.inner.meta
    }

    /// The artifact's header.
    pub fn header(&self) -> &ArtifactHeader {
        &self.inner.header
    }

    /// The module's imports.
    pub fn imports(&self) -> &[wasmc_abi::metadata::Import] {
        &self.inner.meta.imports
    }

    /// The module's exports.
    pub fn exports(&self) -> &[wasmc_abi::metadata::Export] {
        &self.inner.meta.exports
    }

    pub(crate) fn same(&self, other: &Artifact) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl ArtifactInner {
    /// The `.text` offset where the last Wasm function body ends: the bodies precede every
    /// trampoline and stub. `func_ranges` is sorted, and the compiler lays bodies out one
    /// after another, so that is the end of the last one (read at every instantiation: no
    /// walk over the functions).
    pub(crate) fn bodies_end(&self) -> usize {
        self.func_ranges
            .last()
            .map_or(0, |&(start, len, _)| start as usize + len as usize)
    }

    /// The defined function whose body contains `text_off`, as a function index.
    pub(crate) fn func_at(&self, text_off: usize) -> Option<u32> {
        let off = u32::try_from(text_off).ok()?;
        let i = self
            .func_ranges
            .partition_point(|(start, _, _)| *start <= off);
        let (start, len, index) = *self.func_ranges.get(i.checked_sub(1)?)?;
        (off - start < len).then_some(index)
    }

    /// Address of a `.text` offset (checked against the text length at load time).
    pub(crate) fn text_addr(&self, off: u32) -> *const u8 {
        (self.text + off as usize) as *const u8
    }
}

/// Artifacts smaller than this are read whole and only their code is mapped
/// ([`Artifact::load_small_file`]); at this size one copy from the page cache is cheaper
/// than mapping the file and faulting its pages in.
const SMALL_FILE: usize = 64 * 1024;

fn copy_text(text: &[u8]) -> Result<(usize, Code), LoadError> {
    if text.is_empty() {
        return Ok((
            std::ptr::NonNull::<u8>::dangling().as_ptr() as usize,
            Code::Empty,
        ));
    }
    let mut m = Mmap::anon_rw(text.len()).map_err(LoadError::Map)?;
    m.write_at_start(text).map_err(LoadError::Map)?;
    m.protect(0..m.len(), Prot::ReadExec)
        .map_err(LoadError::Map)?;
    Ok((m.as_ptr() as usize, Code::Anon(m)))
}

#[cfg(test)]
mod tests;
