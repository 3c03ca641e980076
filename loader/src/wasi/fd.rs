//! The descriptor table and the `fd_*` functions: reading, writing, seeking, stat, flags,
//! rights, preopen discovery, directory listing, renumbering.
//!
//! A descriptor is stdin (an [`Input`]), stdout/stderr (an [`Output`]), an open regular
//! file (a `std::fs::File`, obtained through cap-std from a sandboxed directory, so it is
//! just a file once open), or a directory (a `cap_std::fs::Dir`: every name below it is
//! resolved by cap-std). Each file and directory remembers whether the preopen it came from
//! allows changes (`mutable`); a read-only preopen refuses them with `EPERM`.
//!
//! `O_APPEND` is emulated (seek to the end before each write) rather than left to the OS,
//! because preview1 lets `fd_fdstat_set_flags` turn it on and off after opening and the
//! standard library cannot change an open file's status flags.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

use super::errno::Errno;
use super::{Args, Env, Fail, InputSpec, OutputBuffer, OutputSpec, WasiResult, guest};

/// `filetype` values.
pub(crate) mod filetype {
    pub(crate) const UNKNOWN: u8 = 0;
    pub(crate) const BLOCK_DEVICE: u8 = 1;
    pub(crate) const CHARACTER_DEVICE: u8 = 2;
    pub(crate) const DIRECTORY: u8 = 3;
    pub(crate) const REGULAR_FILE: u8 = 4;
    pub(crate) const SOCKET_STREAM: u8 = 6;
    pub(crate) const SYMBOLIC_LINK: u8 = 7;
}

/// `fdflags` bits.
pub(crate) mod fdflags {
    pub(crate) const APPEND: u16 = 1 << 0;
    pub(crate) const DSYNC: u16 = 1 << 1;
    pub(crate) const NONBLOCK: u16 = 1 << 2;
    pub(crate) const RSYNC: u16 = 1 << 3;
    pub(crate) const SYNC: u16 = 1 << 4;
}

/// `rights` bits, and the sets this implementation grants.
pub(crate) mod rights {
    pub(crate) const FD_DATASYNC: u64 = 1 << 0;
    pub(crate) const FD_READ: u64 = 1 << 1;
    pub(crate) const FD_SEEK: u64 = 1 << 2;
    pub(crate) const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub(crate) const FD_SYNC: u64 = 1 << 4;
    pub(crate) const FD_TELL: u64 = 1 << 5;
    pub(crate) const FD_WRITE: u64 = 1 << 6;
    pub(crate) const FD_ADVISE: u64 = 1 << 7;
    pub(crate) const FD_ALLOCATE: u64 = 1 << 8;
    pub(crate) const FD_READDIR: u64 = 1 << 14;
    pub(crate) const FD_FILESTAT_GET: u64 = 1 << 21;
    pub(crate) const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub(crate) const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub(crate) const POLL_FD_READWRITE: u64 = 1 << 27;

    /// Every right preview1 defines (bits 0..=29).
    pub(crate) const ALL: u64 = (1 << 30) - 1;
    /// Rights of a regular file that only reads.
    pub(crate) const FILE_READ: u64 = FD_READ | FD_SEEK | FD_TELL | FD_ADVISE;
    /// Rights of a regular file that writes.
    pub(crate) const FILE_WRITE: u64 = FD_WRITE
        | FD_DATASYNC
        | FD_SYNC
        | FD_ALLOCATE
        | FD_FILESTAT_SET_SIZE
        | FD_SEEK
        | FD_TELL
        | FD_ADVISE;
    /// Rights every file has.
    pub(crate) const FILE_COMMON: u64 =
        FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | FD_FILESTAT_SET_TIMES | POLL_FD_READWRITE;
    /// Rights of a directory (everything that is not file I/O).
    pub(crate) const DIR: u64 = ALL
        & !(FD_READ
            | FD_WRITE
            | FD_SEEK
            | FD_TELL
            | FD_ADVISE
            | FD_ALLOCATE
            | FD_FILESTAT_SET_SIZE);
}

/// A guest's stdin.
pub(crate) enum Input {
    Empty,
    Inherit,
    Bytes { data: Vec<u8>, pos: usize },
}

impl Input {
    pub(crate) fn from_spec(spec: InputSpec) -> Input {
        match spec {
            InputSpec::Empty => Input::Empty,
            InputSpec::Inherit => Input::Inherit,
            InputSpec::Bytes(data) => Input::Bytes { data, pos: 0 },
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Empty => Ok(0),
            Input::Inherit => io::stdin().lock().read(buf),
            Input::Bytes { data, pos } => {
                let rest = data.get(*pos..).unwrap_or_default();
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                *pos += n;
                Ok(n)
            }
        }
    }

    /// Bytes known to be readable without blocking (`poll_oneoff`); inherited stdin is
    /// reported ready with 1 byte (see `poll.rs`).
    pub(crate) fn ready_bytes(&self) -> u64 {
        match self {
            Input::Empty => 0,
            Input::Inherit => 1,
            Input::Bytes { data, pos } => (data.len().saturating_sub(*pos)) as u64,
        }
    }

    fn is_terminal(&self) -> bool {
        matches!(self, Input::Inherit) && io::stdin().is_terminal()
    }
}

/// A guest's stdout or stderr.
pub(crate) enum Output {
    Sink,
    Stdout,
    Stderr,
    Buffer(OutputBuffer),
}

impl Output {
    pub(crate) fn from_spec(spec: OutputSpec, stderr: bool) -> Output {
        match spec {
            OutputSpec::Sink => Output::Sink,
            OutputSpec::Inherit if stderr => Output::Stderr,
            OutputSpec::Inherit => Output::Stdout,
            OutputSpec::Buffer(b) => Output::Buffer(b),
        }
    }

    /// Writes everything and flushes, so that nothing is lost if the host exits right after
    /// (a timeout) and the guest's output interleaves with the host's as it happened.
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Output::Sink => Ok(()),
            Output::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(data)?;
                out.flush()
            }
            Output::Stderr => {
                let mut out = io::stderr().lock();
                out.write_all(data)?;
                out.flush()
            }
            Output::Buffer(b) => {
                b.append(data);
                Ok(())
            }
        }
    }

    fn is_terminal(&self) -> bool {
        match self {
            Output::Stdout => io::stdout().is_terminal(),
            Output::Stderr => io::stderr().is_terminal(),
            _ => false,
        }
    }
}

/// An open regular file (or other non-directory).
pub(crate) struct FileDesc {
    pub(crate) file: File,
    pub(crate) read: bool,
    pub(crate) write: bool,
    /// Whether the preopen it came from allows changes.
    pub(crate) mutable: bool,
    pub(crate) flags: u16,
    pub(crate) rights_base: u64,
    pub(crate) rights_inheriting: u64,
}

/// One `fd_readdir` entry, cached between calls (a listing restarts at cookie 0).
pub(crate) struct DirEntryInfo {
    pub(crate) name: Vec<u8>,
    pub(crate) ino: u64,
    pub(crate) filetype: u8,
}

/// An open directory.
pub(crate) struct DirDesc {
    pub(crate) dir: cap_std::fs::Dir,
    /// The guest name if this is a preopen (reported by `fd_prestat_*`).
    pub(crate) preopen: Option<String>,
    /// Whether anything below may be changed.
    pub(crate) mutable: bool,
    pub(crate) rights_base: u64,
    pub(crate) rights_inheriting: u64,
    pub(crate) entries: Option<Vec<DirEntryInfo>>,
}

impl DirDesc {
    pub(crate) fn preopen(dir: cap_std::fs::Dir, guest: String, mutable: bool) -> DirDesc {
        DirDesc {
            dir,
            preopen: Some(guest),
            mutable,
            rights_base: rights::DIR,
            rights_inheriting: rights::ALL,
            entries: None,
        }
    }

    pub(crate) fn opened(dir: cap_std::fs::Dir, mutable: bool, inheriting: u64) -> DirDesc {
        DirDesc {
            dir,
            preopen: None,
            mutable,
            rights_base: rights::DIR & inheriting,
            rights_inheriting: inheriting,
            entries: None,
        }
    }

    /// Refuses a change below a read-only preopen.
    pub(crate) fn check_mutable(&self) -> Result<(), Errno> {
        if self.mutable {
            Ok(())
        } else {
            Err(Errno::PERM)
        }
    }
}

/// A descriptor.
pub(crate) enum Desc {
    Stdin(Input),
    Out(Output),
    File(FileDesc),
    Dir(DirDesc),
}

/// The descriptor table: the guest's numbers to descriptors. New descriptors take the
/// lowest free number, as POSIX does.
#[derive(Default)]
pub(crate) struct FdTable {
    map: BTreeMap<u32, Desc>,
}

impl FdTable {
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn insert_at(&mut self, fd: u32, desc: Desc) {
        self.map.insert(fd, desc);
    }

    pub(crate) fn insert(&mut self, desc: Desc) -> Result<u32, Errno> {
        let mut fd = 0u32;
        for &used in self.map.keys() {
            if used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(Errno::MFILE)?;
        }
        self.map.insert(fd, desc);
        Ok(fd)
    }

    pub(crate) fn get(&mut self, fd: u32) -> Result<&mut Desc, Errno> {
        self.map.get_mut(&fd).ok_or(Errno::BADF)
    }

    pub(crate) fn dir(&mut self, fd: u32) -> Result<&mut DirDesc, Errno> {
        match self.get(fd)? {
            Desc::Dir(d) => Ok(d),
            _ => Err(Errno::NOTDIR),
        }
    }

    fn file(&mut self, fd: u32) -> Result<&mut FileDesc, Errno> {
        match self.get(fd)? {
            Desc::File(f) => Ok(f),
            Desc::Dir(_) => Err(Errno::ISDIR),
            _ => Err(Errno::SPIPE),
        }
    }

    fn remove(&mut self, fd: u32) -> Option<Desc> {
        self.map.remove(&fd)
    }
}

/// The upper bound on one read's buffer: a guest may pass iovecs covering all of its
/// memory, but no single host read needs more than this.
const MAX_READ: usize = 16 << 20;

/// `fd_read(fd, iovs: iovec_array) -> (errno, size)`
pub(crate) fn fd_read(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let iovs = guest::iovecs(env.mem, a.u32(1), a.u32(2))?;
    let mut buf = vec![0u8; guest::total_len(&iovs).min(MAX_READ)];
    let n = match env.ctx.fds.get(a.u32(0))? {
        Desc::Stdin(input) => input.read(&mut buf)?,
        Desc::File(f) => {
            if !f.read {
                return Err(Errno::BADF.into());
            }
            f.file.read(&mut buf)?
        }
        Desc::Dir(_) => return Err(Errno::ISDIR.into()),
        Desc::Out(_) => return Err(Errno::BADF.into()),
    };
    guest::scatter(env.mem, &iovs, &buf[..n])?;
    guest::write_size(env.mem, a.u32(3), n)?;
    Ok(())
}

/// `fd_pread(fd, iovs, offset: filesize) -> (errno, size)`
pub(crate) fn fd_pread(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let iovs = guest::iovecs(env.mem, a.u32(1), a.u32(2))?;
    let f = env.ctx.fds.file(a.u32(0))?;
    if !f.read {
        return Err(Errno::BADF.into());
    }
    let mut buf = vec![0u8; guest::total_len(&iovs).min(MAX_READ)];
    let n = f.file.read_at(&mut buf, a.u64(3))?;
    guest::scatter(env.mem, &iovs, &buf[..n])?;
    guest::write_size(env.mem, a.u32(4), n)?;
    Ok(())
}

/// `fd_write(fd, iovs: ciovec_array) -> (errno, size)`
pub(crate) fn fd_write(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let iovs = guest::iovecs(env.mem, a.u32(1), a.u32(2))?;
    let data = guest::gather(env.mem, &iovs)?;
    match env.ctx.fds.get(a.u32(0))? {
        Desc::Out(out) => out.write(&data)?,
        Desc::File(f) => {
            if !f.write {
                return Err(Errno::BADF.into());
            }
            if f.flags & fdflags::APPEND != 0 {
                f.file.seek(SeekFrom::End(0))?;
            }
            f.file.write_all(&data)?;
        }
        Desc::Dir(_) => return Err(Errno::ISDIR.into()),
        Desc::Stdin(_) => return Err(Errno::BADF.into()),
    }
    guest::write_size(env.mem, a.u32(3), data.len())?;
    Ok(())
}

/// `fd_pwrite(fd, iovs, offset: filesize) -> (errno, size)`
pub(crate) fn fd_pwrite(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let iovs = guest::iovecs(env.mem, a.u32(1), a.u32(2))?;
    let data = guest::gather(env.mem, &iovs)?;
    let f = env.ctx.fds.file(a.u32(0))?;
    if !f.write {
        return Err(Errno::BADF.into());
    }
    f.file.write_all_at(&data, a.u64(3))?;
    guest::write_size(env.mem, a.u32(4), data.len())?;
    Ok(())
}

fn seek(env: &mut Env<'_>, fd: u32, whence: SeekFrom, out: u32) -> WasiResult {
    let f = env.ctx.fds.file(fd)?;
    let pos = f.file.seek(whence)?;
    guest::write_u64(env.mem, out, pos)?;
    Ok(())
}

/// `fd_seek(fd, offset: filedelta, whence) -> (errno, filesize)`; preview1 `whence`:
/// 0 = set, 1 = cur, 2 = end.
pub(crate) fn fd_seek(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let offset = a.u64(1).cast_signed();
    let whence = match a.u32(2) {
        0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::INVAL)?),
        1 => SeekFrom::Current(offset),
        2 => SeekFrom::End(offset),
        _ => return Err(Errno::INVAL.into()),
    };
    seek(env, a.u32(0), whence, a.u32(3))
}

/// `fd_seek` of `wasi_unstable` (preview0): `whence` 0 = cur, 1 = end, 2 = set.
pub(crate) fn fd_seek_preview0(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let offset = a.u64(1).cast_signed();
    let whence = match a.u32(2) {
        0 => SeekFrom::Current(offset),
        1 => SeekFrom::End(offset),
        2 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::INVAL)?),
        _ => return Err(Errno::INVAL.into()),
    };
    seek(env, a.u32(0), whence, a.u32(3))
}

/// `fd_tell(fd) -> (errno, filesize)`
pub(crate) fn fd_tell(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    seek(env, a.u32(0), SeekFrom::Current(0), a.u32(1))
}

/// `fd_close(fd) -> errno`. Preopens and stdio can be closed too.
pub(crate) fn fd_close(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    env.ctx.fds.remove(a.u32(0)).ok_or(Errno::BADF)?;
    Ok(())
}

fn sync(env: &mut Env<'_>, fd: u32, data_only: bool) -> WasiResult {
    match env.ctx.fds.get(fd)? {
        Desc::File(f) if data_only => f.file.sync_data()?,
        Desc::File(f) => f.file.sync_all()?,
        // fsync(2) of a directory makes its entries durable; cap-std's `Dir` has no method
        // for it and it is never needed for correctness here, so it is a no-op.
        Desc::Dir(_) => {}
        // As fsync(2) on a terminal or pipe.
        Desc::Stdin(_) | Desc::Out(_) => return Err(Errno::INVAL.into()),
    }
    Ok(())
}

/// `fd_datasync(fd) -> errno`
pub(crate) fn fd_datasync(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    sync(env, a.u32(0), true)
}

/// `fd_sync(fd) -> errno`
pub(crate) fn fd_sync(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    sync(env, a.u32(0), false)
}

/// `fd_fdstat_get(fd) -> (errno, fdstat)`: `{filetype: u8 @0, flags: u16 @2,
/// rights_base: u64 @8, rights_inheriting: u64 @16}`.
pub(crate) fn fd_fdstat_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let (ty, flags, base, inheriting) = match env.ctx.fds.get(a.u32(0))? {
        // A terminal is a character device without seek/tell (what wasi-libc's `isatty`
        // checks); a redirected or in-memory stream is "unknown".
        Desc::Stdin(i) => (
            if i.is_terminal() {
                filetype::CHARACTER_DEVICE
            } else {
                filetype::UNKNOWN
            },
            0,
            rights::FD_READ | rights::POLL_FD_READWRITE | rights::FD_FILESTAT_GET,
            0,
        ),
        Desc::Out(o) => (
            if o.is_terminal() {
                filetype::CHARACTER_DEVICE
            } else {
                filetype::UNKNOWN
            },
            0,
            rights::FD_WRITE | rights::POLL_FD_READWRITE | rights::FD_FILESTAT_GET,
            0,
        ),
        Desc::File(f) => {
            let ty = file_type_of(&f.file.metadata()?.file_type());
            (ty, f.flags, f.rights_base, f.rights_inheriting)
        }
        Desc::Dir(d) => (filetype::DIRECTORY, 0, d.rights_base, d.rights_inheriting),
    };
    let p = a.u32(1);
    guest::write(env.mem, p, &[0; 24])?;
    guest::write_u8(env.mem, p, ty)?;
    guest::write_u16(env.mem, p + 2, flags)?;
    guest::write_u64(env.mem, p + 8, base)?;
    guest::write_u64(env.mem, p + 16, inheriting)?;
    Ok(())
}

/// `fd_fdstat_set_flags(fd, flags: fdflags) -> errno`. `append` is honoured (emulated, see
/// the module documentation); `nonblock` is accepted and has no effect (reads of files never
/// block long; inherited stdin blocks); the `*sync` flags are accepted on files and recorded
/// (writes go through the page cache; `fd_sync` makes them durable).
pub(crate) fn fd_fdstat_set_flags(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let flags = u16::try_from(a.u32(1)).map_err(|_| Errno::INVAL)?;
    let known =
        fdflags::APPEND | fdflags::DSYNC | fdflags::NONBLOCK | fdflags::RSYNC | fdflags::SYNC;
    if flags & !known != 0 {
        return Err(Errno::INVAL.into());
    }
    match env.ctx.fds.get(a.u32(0))? {
        Desc::File(f) => {
            if flags & fdflags::APPEND != 0 && !f.write {
                return Err(Errno::BADF.into());
            }
            f.flags = flags;
        }
        Desc::Stdin(_) | Desc::Out(_) if flags & !(fdflags::APPEND | fdflags::NONBLOCK) == 0 => {}
        _ => return Err(Errno::NOTSUP.into()),
    }
    Ok(())
}

/// `fd_fdstat_set_rights(fd, base, inheriting) -> errno`: rights can only be dropped
/// (`ENOTCAPABLE` when asking for more).
pub(crate) fn fd_fdstat_set_rights(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let (base, inheriting) = (a.u64(1), a.u64(2));
    let (cur_base, cur_inh) = match env.ctx.fds.get(a.u32(0))? {
        Desc::File(f) => (&mut f.rights_base, &mut f.rights_inheriting),
        Desc::Dir(d) => (&mut d.rights_base, &mut d.rights_inheriting),
        // Stdio rights are fixed; dropping none of them is fine.
        Desc::Stdin(_) | Desc::Out(_) => return Ok(()),
    };
    if base & !*cur_base != 0 || inheriting & !*cur_inh != 0 {
        return Err(Errno::NOTCAPABLE.into());
    }
    *cur_base = base;
    *cur_inh = inheriting;
    // Dropping the read or write right takes effect on the open file too.
    if let Desc::File(f) = env.ctx.fds.get(a.u32(0))? {
        f.read &= base & rights::FD_READ != 0;
        f.write &= base & rights::FD_WRITE != 0;
    }
    Ok(())
}

/// A `filestat`, before it is written in one of the two layouts.
pub(crate) struct Filestat {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) filetype: u8,
    pub(crate) nlink: u64,
    pub(crate) size: u64,
    pub(crate) atim: u64,
    pub(crate) mtim: u64,
    pub(crate) ctim: u64,
}

fn ts(secs: i64, nsec: i64) -> u64 {
    let ns = i128::from(secs) * 1_000_000_000 + i128::from(nsec);
    u64::try_from(ns.max(0)).unwrap_or(u64::MAX)
}

pub(crate) fn file_type_of(t: &std::fs::FileType) -> u8 {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        filetype::DIRECTORY
    } else if t.is_file() {
        filetype::REGULAR_FILE
    } else if t.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if t.is_char_device() {
        filetype::CHARACTER_DEVICE
    } else if t.is_block_device() {
        filetype::BLOCK_DEVICE
    } else if t.is_socket() {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

pub(crate) fn cap_file_type_of(t: &cap_std::fs::FileType) -> u8 {
    use cap_fs_ext::FileTypeExt;
    if t.is_dir() {
        filetype::DIRECTORY
    } else if t.is_file() {
        filetype::REGULAR_FILE
    } else if t.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if t.is_char_device() {
        filetype::CHARACTER_DEVICE
    } else if t.is_block_device() {
        filetype::BLOCK_DEVICE
    } else if t.is_socket() {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

impl Filestat {
    pub(crate) fn from_std(m: &std::fs::Metadata) -> Filestat {
        use std::os::unix::fs::MetadataExt;
        Filestat {
            dev: m.dev(),
            ino: m.ino(),
            filetype: file_type_of(&m.file_type()),
            nlink: m.nlink(),
            size: m.size(),
            atim: ts(m.atime(), m.atime_nsec()),
            mtim: ts(m.mtime(), m.mtime_nsec()),
            ctim: ts(m.ctime(), m.ctime_nsec()),
        }
    }

    pub(crate) fn from_cap(m: &cap_std::fs::Metadata) -> Filestat {
        use cap_fs_ext::{MetadataExt, OsMetadataExt};
        Filestat {
            dev: MetadataExt::dev(m),
            ino: MetadataExt::ino(m),
            filetype: cap_file_type_of(&m.file_type()),
            nlink: MetadataExt::nlink(m),
            size: m.len(),
            atim: ts(m.atime(), m.atime_nsec()),
            mtim: ts(m.mtime(), m.mtime_nsec()),
            ctim: ts(m.ctime(), m.ctime_nsec()),
        }
    }

    /// Preview1 layout: 64 bytes, `nlink: u64 @24`.
    pub(crate) fn write(&self, mem: &mut [u8], p: u32) -> Result<(), Errno> {
        guest::write(mem, p, &[0; 64])?;
        guest::write_u64(mem, p, self.dev)?;
        guest::write_u64(mem, p + 8, self.ino)?;
        guest::write_u8(mem, p + 16, self.filetype)?;
        guest::write_u64(mem, p + 24, self.nlink)?;
        guest::write_u64(mem, p + 32, self.size)?;
        guest::write_u64(mem, p + 40, self.atim)?;
        guest::write_u64(mem, p + 48, self.mtim)?;
        guest::write_u64(mem, p + 56, self.ctim)
    }

    /// Preview0 (`wasi_unstable`) layout: 56 bytes, `nlink: u32 @20`.
    pub(crate) fn write_preview0(&self, mem: &mut [u8], p: u32) -> Result<(), Errno> {
        guest::write(mem, p, &[0; 56])?;
        guest::write_u64(mem, p, self.dev)?;
        guest::write_u64(mem, p + 8, self.ino)?;
        guest::write_u8(mem, p + 16, self.filetype)?;
        guest::write_u32(mem, p + 20, u32::try_from(self.nlink).unwrap_or(u32::MAX))?;
        guest::write_u64(mem, p + 24, self.size)?;
        guest::write_u64(mem, p + 32, self.atim)?;
        guest::write_u64(mem, p + 40, self.mtim)?;
        guest::write_u64(mem, p + 48, self.ctim)
    }
}

fn fd_filestat(env: &mut Env<'_>, fd: u32) -> Result<Filestat, Fail> {
    Ok(match env.ctx.fds.get(fd)? {
        Desc::File(f) => Filestat::from_std(&f.file.metadata()?),
        Desc::Dir(d) => Filestat::from_cap(&d.dir.dir_metadata()?),
        // Streams have no inode of their own to show.
        Desc::Stdin(_) | Desc::Out(_) => Filestat {
            dev: 0,
            ino: 0,
            filetype: filetype::CHARACTER_DEVICE,
            nlink: 0,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        },
    })
}

/// `fd_filestat_get(fd) -> (errno, filestat)`
pub(crate) fn fd_filestat_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let st = fd_filestat(env, a.u32(0))?;
    st.write(env.mem, a.u32(1))?;
    Ok(())
}

/// `fd_filestat_get` of `wasi_unstable` (preview0 `filestat` layout).
pub(crate) fn fd_filestat_get_preview0(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let st = fd_filestat(env, a.u32(0))?;
    st.write_preview0(env.mem, a.u32(1))?;
    Ok(())
}

/// `fd_filestat_set_size(fd, size) -> errno`
pub(crate) fn fd_filestat_set_size(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let f = env.ctx.fds.file(a.u32(0))?;
    if !f.mutable {
        return Err(Errno::PERM.into());
    }
    if !f.write {
        return Err(Errno::BADF.into());
    }
    f.file.set_len(a.u64(1))?;
    Ok(())
}

/// `fstflags` bits.
pub(crate) mod fstflags {
    pub(crate) const ATIM: u32 = 1 << 0;
    pub(crate) const ATIM_NOW: u32 = 1 << 1;
    pub(crate) const MTIM: u32 = 1 << 2;
    pub(crate) const MTIM_NOW: u32 = 1 << 3;
}

/// Decodes one time of `*_set_times`: `None` leaves it unchanged. Setting a time both to a
/// value and to "now" is `EINVAL`, as the spec says.
pub(crate) fn time_spec(
    flags: u32,
    set: u32,
    now: u32,
    value: u64,
) -> Result<Option<std::time::SystemTime>, Errno> {
    match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::INVAL),
        (true, false) => Ok(Some(
            std::time::UNIX_EPOCH + std::time::Duration::from_nanos(value),
        )),
        (false, true) => Ok(Some(std::time::SystemTime::now())),
        (false, false) => Ok(None),
    }
}

/// `fd_filestat_set_times(fd, atim, mtim, fst_flags) -> errno`
pub(crate) fn fd_filestat_set_times(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let flags = a.u32(3);
    if flags & !(fstflags::ATIM | fstflags::ATIM_NOW | fstflags::MTIM | fstflags::MTIM_NOW) != 0 {
        return Err(Errno::INVAL.into());
    }
    let atime = time_spec(flags, fstflags::ATIM, fstflags::ATIM_NOW, a.u64(1))?;
    let mtime = time_spec(flags, fstflags::MTIM, fstflags::MTIM_NOW, a.u64(2))?;
    match env.ctx.fds.get(a.u32(0))? {
        Desc::File(f) => {
            if !f.mutable {
                return Err(Errno::PERM.into());
            }
            let mut times = std::fs::FileTimes::new();
            if let Some(t) = atime {
                times = times.set_accessed(t);
            }
            if let Some(t) = mtime {
                times = times.set_modified(t);
            }
            f.file.set_times(times)?;
        }
        Desc::Dir(d) => {
            d.check_mutable()?;
            use cap_fs_ext::{DirExt, SystemTimeSpec};
            let spec = |t: Option<std::time::SystemTime>| {
                t.map(|t| SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(t)))
            };
            d.dir.set_times(".", spec(atime), spec(mtime))?;
        }
        Desc::Stdin(_) | Desc::Out(_) => return Err(Errno::BADF.into()),
    }
    Ok(())
}

/// `fd_advise(fd, offset, len, advice) -> errno`: checked, then ignored (advice never
/// changes results).
pub(crate) fn fd_advise(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    if a.u32(3) > 5 {
        return Err(Errno::INVAL.into());
    }
    env.ctx.fds.file(a.u32(0))?;
    Ok(())
}

/// `fd_allocate(fd, offset, len) -> errno`: grows the file to at least `offset + len` bytes.
pub(crate) fn fd_allocate(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let f = env.ctx.fds.file(a.u32(0))?;
    if !f.mutable {
        return Err(Errno::PERM.into());
    }
    if !f.write {
        return Err(Errno::BADF.into());
    }
    let end = a.u64(1).checked_add(a.u64(2)).ok_or(Errno::FBIG)?;
    if f.file.metadata()?.len() < end {
        f.file.set_len(end)?;
    }
    Ok(())
}

/// `fd_prestat_get(fd) -> (errno, prestat)`: `{tag: u8 @0 (0 = dir), name_len: u32 @4}`.
/// `EBADF` for anything that is not a preopen, which is how wasi-libc ends its scan.
pub(crate) fn fd_prestat_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let Desc::Dir(DirDesc {
        preopen: Some(name),
        ..
    }) = env.ctx.fds.get(a.u32(0))?
    else {
        return Err(Errno::BADF.into());
    };
    let len = u32::try_from(name.len()).map_err(|_| Errno::NAMETOOLONG)?;
    let p = a.u32(1);
    guest::write(env.mem, p, &[0; 8])?;
    guest::write_u32(env.mem, p + 4, len)?;
    Ok(())
}

/// `fd_prestat_dir_name(fd, path: *u8, path_len: size) -> errno`
pub(crate) fn fd_prestat_dir_name(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let Desc::Dir(DirDesc {
        preopen: Some(name),
        ..
    }) = env.ctx.fds.get(a.u32(0))?
    else {
        return Err(Errno::BADF.into());
    };
    let name = name.clone().into_bytes();
    let len = usize::try_from(a.u32(2)).map_err(|_| Errno::FAULT)?;
    if len < name.len() {
        return Err(Errno::NAMETOOLONG.into());
    }
    guest::write(env.mem, a.u32(1), &name)?;
    Ok(())
}

fn list_dir(d: &DirDesc) -> io::Result<Vec<DirEntryInfo>> {
    use cap_fs_ext::MetadataExt;
    let own = d.dir.dir_metadata()?;
    let mut out = vec![
        DirEntryInfo {
            name: b".".to_vec(),
            ino: MetadataExt::ino(&own),
            filetype: filetype::DIRECTORY,
        },
        // The parent may be outside the sandbox: its inode number is not shown.
        DirEntryInfo {
            name: b"..".to_vec(),
            ino: 0,
            filetype: filetype::DIRECTORY,
        },
    ];
    for entry in d.dir.entries()? {
        let entry = entry?;
        use std::os::unix::ffi::OsStrExt;
        let name = entry.file_name().as_bytes().to_vec();
        let filetype = entry
            .file_type()
            .map_or(filetype::UNKNOWN, |t| cap_file_type_of(&t));
        let ino = entry.metadata().map_or(0, |m| MetadataExt::ino(&m));
        out.push(DirEntryInfo {
            name,
            ino,
            filetype,
        });
    }
    Ok(out)
}

/// `fd_readdir(fd, buf, buf_len, cookie) -> (errno, size)`: entries from position `cookie`
/// on, each a 24-byte `dirent` (`d_next @0, d_ino @8, d_namlen @16, d_type @20`) followed by
/// the name, cut off where the buffer ends (a full buffer tells the caller to come back
/// with a larger one). The cookie of an entry is its position + 1; the listing (including
/// `.` and `..`) is read afresh at cookie 0 and kept for the calls that continue it.
pub(crate) fn fd_readdir(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let d = match env.ctx.fds.get(a.u32(0))? {
        Desc::Dir(d) => d,
        _ => return Err(Errno::NOTDIR.into()),
    };
    let cookie = a.u64(3);
    if cookie == 0 || d.entries.is_none() {
        d.entries = Some(list_dir(d)?);
    }
    let entries = d.entries.as_deref().unwrap_or_default();
    let buf_len = usize::try_from(a.u32(2)).map_err(|_| Errno::FAULT)?;
    let mut out = Vec::with_capacity(buf_len.min(1 << 16));
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, e) in entries.iter().enumerate().skip(start) {
        if out.len() >= buf_len {
            break;
        }
        out.extend_from_slice(&(i as u64 + 1).to_le_bytes());
        out.extend_from_slice(&e.ino.to_le_bytes());
        let namlen = u32::try_from(e.name.len()).map_err(|_| Errno::NAMETOOLONG)?;
        out.extend_from_slice(&namlen.to_le_bytes());
        out.extend_from_slice(&[e.filetype, 0, 0, 0]);
        out.extend_from_slice(&e.name);
    }
    out.truncate(buf_len);
    guest::write(env.mem, a.u32(1), &out)?;
    guest::write_size(env.mem, a.u32(4), out.len())?;
    Ok(())
}

/// `fd_renumber(fd, to) -> errno`: moves `fd` to `to`, closing what `to` was. Both must be
/// open (`EBADF` otherwise).
pub(crate) fn fd_renumber(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let (from, to) = (a.u32(0), a.u32(1));
    env.ctx.fds.get(to)?;
    let desc = env.ctx.fds.remove(from).ok_or(Errno::BADF)?;
    env.ctx.fds.insert_at(to, desc);
    Ok(())
}
