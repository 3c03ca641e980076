//! Virtual memory: the only file that calls `mmap`, `mprotect` and `munmap`.
//!
//! - [`Mmap`]: an owned anonymous mapping (reservations with guard pages, RW buffers, copies of
//!   code made read+execute, signal stacks);
//! - [`MemoryMap`]: a linear memory's reservation whose prefix `[0, accessible)` is read-write,
//!   some of its pages possibly private copy-on-write mappings of an artifact file (large
//!   data segments, [`MemoryMap::map_file`]);
//! - [`FileMap`]: a private, read-only mapping of an artifact file whose `.text` range can be
//!   made read+execute in place.
//!
//! No mapping is ever writable and executable at the same time: code is written (or read
//! from the file) first, then the pages switch to read+execute.

use std::io;
use std::ops::Range;
use std::ptr::NonNull;

/// Protection of a range of pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prot {
    /// No access (guard pages, reserved but unused memory).
    None,
    /// Read and write.
    ReadWrite,
    /// Read and execute (published code).
    ReadExec,
}

impl Prot {
    fn bits(self) -> libc::c_int {
        match self {
            Prot::None => libc::PROT_NONE,
            Prot::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
            Prot::ReadExec => libc::PROT_READ | libc::PROT_EXEC,
        }
    }
}

/// The host page size.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).ok().filter(|p| *p > 0).unwrap_or(4096)
}

/// Rounds `x` up to a multiple of the page size, or `None` on overflow.
pub(crate) fn round_up_to_page(x: usize) -> Option<usize> {
    let p = page_size();
    x.checked_add(p - 1).map(|v| v / p * p)
}

/// An owned anonymous mapping, unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a `Mmap` is a plain owned region of memory; nothing about it is tied to a thread.
unsafe impl Send for Mmap {}
// SAFETY: shared access only hands out its address and length; reads and writes of the
// contents go through `&mut self` or through unsafe code that upholds its own rules.
unsafe impl Sync for Mmap {}

impl Mmap {
    fn map(len: usize, prot: Prot, extra_flags: libc::c_int) -> io::Result<Mmap> {
        let len = round_up_to_page(len.max(1))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "mapping too large"))?;
        // SAFETY: an anonymous mapping at an address chosen by the kernel touches no
        // existing memory.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot.bits(),
                libc::MAP_PRIVATE | libc::MAP_ANON | extra_flags,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null pointer"))?;
        Ok(Mmap { ptr, len })
    }

    /// Reserves `len` bytes of address space, inaccessible and without committing memory.
    pub(crate) fn reserve(len: usize) -> io::Result<Mmap> {
        Mmap::map(len, Prot::None, libc::MAP_NORESERVE)
    }

    /// Maps `len` bytes (rounded up to pages) of zeroed read-write memory.
    pub(crate) fn anon_rw(len: usize) -> io::Result<Mmap> {
        Mmap::map(len, Prot::ReadWrite, 0)
    }

    /// Start of the mapping.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Length of the mapping in bytes (a multiple of the page size).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Changes the protection of `range` (page aligned, inside the mapping).
    pub(crate) fn protect(&self, range: Range<usize>, prot: Prot) -> io::Result<()> {
        let p = page_size();
        if !range.start.is_multiple_of(p) || range.end < range.start || range.end > self.len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "bad protection range {range:?} of a {}-byte mapping",
                    self.len
                ),
            ));
        }
        if range.is_empty() {
            return Ok(());
        }
        // SAFETY: the range lies inside this mapping, which we own; changing its protection
        // cannot invalidate Rust references because callers only hand out slices of
        // accessible parts through `&self`/`&mut self` after this returns.
        let r = unsafe {
            libc::mprotect(
                self.ptr.as_ptr().add(range.start).cast(),
                range.end - range.start,
                prot.bits(),
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Copies `bytes` to the start of this read-write mapping.
    pub(crate) fn write_at_start(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.len() > self.len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "copy too large",
            ));
        }
        // SAFETY: the mapping is at least `bytes.len()` long, was mapped read-write by
        // `anon_rw`, and we hold `&mut self`, so nothing else reads it.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.as_ptr(), bytes.len()) };
        Ok(())
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: we own the mapping and nobody can use it after drop.
        let r = unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
        debug_assert_eq!(r, 0, "munmap failed: {}", io::Error::last_os_error());
    }
}

/// A linear memory: a reservation whose first `accessible` bytes are read-write and the rest
/// (up to the reservation and its guard) inaccessible. The base never moves.
#[derive(Debug)]
pub(crate) struct MemoryMap {
    map: Mmap,
    accessible: usize,
}

impl MemoryMap {
    /// Reserves `reservation` bytes and makes the first `accessible` read-write.
    pub(crate) fn new(reservation: usize, accessible: usize) -> io::Result<MemoryMap> {
        let map = Mmap::reserve(reservation)?;
        let mut m = MemoryMap { map, accessible: 0 };
        m.grow_to(accessible)?;
        Ok(m)
    }

    /// Base address.
    pub(crate) fn base(&self) -> *mut u8 {
        self.map.as_ptr()
    }

    /// Bytes accessible.
    pub(crate) fn accessible(&self) -> usize {
        self.accessible
    }

    /// Makes `[0, new_len)` accessible; `new_len` must not shrink the memory.
    pub(crate) fn grow_to(&mut self, new_len: usize) -> io::Result<()> {
        if new_len < self.accessible {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot shrink"));
        }
        let end = round_up_to_page(new_len)
            .filter(|e| *e <= self.map.len())
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "past the reservation"))?;
        let start = round_up_to_page(self.accessible).unwrap_or(end).min(end);
        self.map.protect(start..end, Prot::ReadWrite)?;
        self.accessible = new_len;
        Ok(())
    }

    /// Replaces the pages `range` (page aligned, inside the accessible part) with a private
    /// copy-on-write mapping of `file` from offset `file_off` (page aligned), read-write:
    /// reads see the file's bytes, the first write to a page copies it, and nothing is ever
    /// written back to the file. Dropping the memory unmaps these pages with the rest of the
    /// reservation; `grow_to` never touches them (it only changes pages past `accessible`).
    ///
    /// `Ok(true)` once mapped. `Ok(false)` if the kernel refused the mapping (a file system
    /// that cannot be mapped, the process's limit of mappings, ...): the range is then
    /// zero-filled anonymous memory again, and the caller should copy the bytes instead. An
    /// error for a bad range, or if the range could not be restored (the memory is unusable).
    pub(crate) fn map_file(
        &mut self,
        range: Range<usize>,
        file: &std::fs::File,
        file_off: u64,
    ) -> io::Result<bool> {
        use std::os::fd::AsRawFd;
        let p = page_size();
        let ok = range.start.is_multiple_of(p)
            && range.end.is_multiple_of(p)
            && range.start < range.end
            && range.end <= self.accessible
            && file_off.is_multiple_of(p as u64);
        let off = libc::off_t::try_from(file_off)
            .ok()
            .filter(|_| ok)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "bad file mapping of {range:?} from offset {file_off:#x} in a memory of \
                     {:#x} accessible bytes",
                        self.accessible
                    ),
                )
            })?;
        let len = range.end - range.start;
        // SAFETY: the range lies inside this reservation's accessible part, which we own and
        // hold `&mut self` to, so no Rust reference into these pages is alive; MAP_FIXED
        // replaces exactly those pages and nothing outside the reservation. The private
        // mapping never writes back to the file. The file's contents must not change while
        // mapped (the trust model of `Artifact::from_file`).
        let ptr = unsafe {
            libc::mmap(
                self.map.as_ptr().add(range.start).cast(),
                len,
                Prot::ReadWrite.bits(),
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                file.as_raw_fd(),
                off,
            )
        };
        if ptr != libc::MAP_FAILED {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        // A failed MAP_FIXED may have unmapped the old pages: put zeroed memory back.
        // SAFETY: as above, for an anonymous mapping of the same pages.
        let back = unsafe {
            libc::mmap(
                self.map.as_ptr().add(range.start).cast(),
                len,
                Prot::ReadWrite.bits(),
                libc::MAP_PRIVATE | libc::MAP_ANON | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if back == libc::MAP_FAILED {
            return Err(io::Error::other(format!(
                "mapping the file failed ({err}) and the memory could not be restored ({})",
                io::Error::last_os_error()
            )));
        }
        Ok(false)
    }

    /// The accessible bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `[0, accessible)` was made read-write by `grow_to` and stays mapped as long
        // as `self`; mutation happens only through `&mut self` or by Wasm code, which cannot
        // run while this borrow (derived from the store) is alive.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr(), self.accessible) }
    }

    /// The accessible bytes, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as for `as_slice`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.map.as_ptr(), self.accessible) }
    }
}

/// Reads up to `limit - 1` bytes of `file` from its current offset with one `read`, without
/// zeroing the buffer first: `Ok(None)` if the file has `limit` bytes or more there (or the
/// read was cut short and filled the buffer). A read shorter than asked is taken as the end
/// of the file; callers must validate what they got (the artifact parser does, and falls back
/// to mapping the file on any error).
pub(crate) fn read_small(file: &std::fs::File, limit: usize) -> io::Result<Option<Vec<u8>>> {
    use std::os::fd::AsRawFd;
    let mut buf: Vec<u8> = Vec::with_capacity(limit);
    // SAFETY: the kernel writes at most `limit` bytes into the vector's spare capacity, which
    // is at least `limit` bytes long.
    let n = unsafe { libc::read(file.as_raw_fd(), buf.as_mut_ptr().cast(), limit) };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    if n >= limit {
        return Ok(None);
    }
    // SAFETY: the read initialised the first `n <= limit` bytes.
    unsafe { buf.set_len(n) };
    Ok(Some(buf))
}

/// `len` bytes of a file from a page-aligned offset, mapped read+execute (never writable):
/// the code of a small artifact, file-backed and shared with every other mapping of the file.
#[derive(Debug)]
pub(crate) struct FileCode {
    map: memmap2::Mmap,
}

impl FileCode {
    /// Maps `len` bytes of `file` from `offset` (page aligned) read+execute. `populate`
    /// fills the page tables at once (only sensible for a few pages: it costs time in
    /// proportion to `len`), so the first call into the code takes no page fault.
    ///
    /// # Safety
    ///
    /// As for [`FileMap::new`]: the file must not be modified while the mapping is alive.
    pub(crate) unsafe fn new(
        file: &std::fs::File,
        offset: u64,
        len: usize,
        populate: bool,
    ) -> io::Result<FileCode> {
        if !offset.is_multiple_of(page_size() as u64) || len == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("code at file offset {offset:#x} ({len} bytes) is not page aligned"),
            ));
        }
        let mut options = memmap2::MmapOptions::new();
        options.offset(offset).len(len);
        if populate {
            options.populate();
        }
        // SAFETY: forwarded to our caller. Read+execute only: nothing can write these pages.
        let map = unsafe { options.map_exec(file)? };
        Ok(FileCode { map })
    }

    /// Address of the first byte.
    pub(crate) fn addr(&self) -> usize {
        self.map.as_ptr() as usize
    }
}

/// A private read-only mapping of a whole file; a page-aligned range of it can be made
/// read+execute in place.
#[derive(Debug)]
pub(crate) struct FileMap {
    map: memmap2::Mmap,
}

impl FileMap {
    /// Maps `file` privately (copy-on-write, never written back) and read-only.
    ///
    /// # Safety
    ///
    /// The file must not be modified while the mapping is alive: the bytes of a private
    /// mapping that were not yet copied can still change when the file does. Callers
    /// document this as part of the artifact trust model.
    pub(crate) unsafe fn new(file: &std::fs::File) -> io::Result<FileMap> {
        // SAFETY: forwarded to our caller (see above).
        let map = unsafe { memmap2::MmapOptions::new().map_copy_read_only(file)? };
        Ok(FileMap { map })
    }

    /// The file's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Makes `range` (page aligned start) read+execute. Its bytes stay readable, so
    /// `bytes()` remains valid.
    pub(crate) fn make_exec(&self, range: Range<usize>) -> io::Result<()> {
        let p = page_size();
        if !range.start.is_multiple_of(p) || range.end < range.start || range.end > self.map.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("text range {range:?} is not page aligned inside the file"),
            ));
        }
        if range.is_empty() {
            return Ok(());
        }
        let len = round_up_to_page(range.end - range.start)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "range too large"))?;
        // Rounding up may cover bytes past `range.end` in the last page; they stay readable
        // (R+X includes R) and are never jumped to.
        // SAFETY: the pages belong to this private read-only mapping (the mapping's length
        // is rounded up to whole pages by the kernel); adding execute permission keeps them
        // readable, so existing `&[u8]` views stay valid.
        let r = unsafe {
            libc::mprotect(
                self.map.as_ptr().add(range.start).cast_mut().cast(),
                len,
                Prot::ReadExec.bits(),
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_map_grows_by_protection() {
        let mut m = MemoryMap::new(1 << 20, 65536).unwrap();
        assert_eq!(m.as_slice().len(), 65536);
        m.as_mut_slice()[65535] = 7;
        m.grow_to(2 * 65536).unwrap();
        assert_eq!(m.as_slice()[65535], 7);
        m.as_mut_slice()[2 * 65536 - 1] = 1;
        assert!(m.grow_to(2 << 20).is_err());
        assert!(m.grow_to(1).is_err());
    }

    /// A file holding `bytes` in the temp dir, open for reading, removed when the test ends.
    struct TempFile(std::path::PathBuf, std::fs::File);

    impl TempFile {
        fn new(tag: &str, bytes: &[u8]) -> TempFile {
            let path =
                std::env::temp_dir().join(format!("wasmc-mmap-{}-{tag}.bin", std::process::id()));
            std::fs::write(&path, bytes).unwrap();
            let file = std::fs::File::open(&path).unwrap();
            TempFile(path, file)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn file_pages_are_private_and_survive_growth() {
        let p = page_size();
        let bytes: Vec<u8> = (0..4 * p)
            .map(|i| u8::try_from(i % 253).unwrap() + 1)
            .collect();
        let f = TempFile::new("cow", &bytes);
        let mut m = MemoryMap::new(1 << 24, 8 * 65536).unwrap();
        // File pages 1..3 at memory page 5.
        assert!(m.map_file(5 * p..7 * p, &f.1, p as u64).unwrap());
        assert_eq!(&m.as_slice()[5 * p..7 * p], &bytes[p..3 * p]);
        assert!(m.as_slice()[..5 * p].iter().all(|b| *b == 0));
        assert!(m.as_slice()[7 * p..].iter().all(|b| *b == 0));
        m.as_mut_slice()[5 * p] = 0;
        m.grow_to(16 * 65536).unwrap();
        assert_eq!(m.as_slice()[5 * p], 0);
        assert_eq!(&m.as_slice()[5 * p + 1..7 * p], &bytes[p + 1..3 * p]);
        m.as_mut_slice()[16 * 65536 - 1] = 9;
        drop(m);
        // The write went to a private copy, not to the file.
        assert_eq!(std::fs::read(&f.0).unwrap(), bytes);
    }

    #[test]
    fn file_mapping_checks_its_range() {
        let p = page_size();
        let f = TempFile::new("bad", &vec![1u8; 2 * p]);
        let mut m = MemoryMap::new(1 << 24, 65536).unwrap();
        assert!(m.map_file(1..p, &f.1, 0).is_err());
        assert!(m.map_file(0..p, &f.1, 1).is_err());
        assert!(m.map_file(p..p, &f.1, 0).is_err());
        assert!(m.map_file(65536..65536 + p, &f.1, 0).is_err());
        assert!(m.as_slice().iter().all(|b| *b == 0));
    }

    #[test]
    fn protect_checks_its_range() {
        let m = Mmap::anon_rw(8192).unwrap();
        assert!(m.protect(1..4096, Prot::None).is_err());
        assert!(m.protect(0..1 << 30, Prot::None).is_err());
        m.protect(0..4096, Prot::ReadExec).unwrap();
    }
}
