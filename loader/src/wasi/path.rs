//! The `path_*` functions: names resolved inside a directory descriptor. Every lookup goes
//! through cap-std's `Dir`, which refuses to leave the directory (`..` past it, absolute
//! paths, symlinks pointing outside) with a `PermissionDenied` error that reaches the guest
//! as `EPERM`; nothing here inspects paths itself. Operations that change anything check the
//! directory's `mutable` flag first (read-only preopens: `EPERM`).

use std::path::Path;

use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, SystemTimeSpec,
};

use super::errno::Errno;
use super::fd::{self, Desc, DirDesc, FileDesc, Filestat, fdflags, fstflags, rights};
use super::{Args, Env, Fail, WasiResult, guest};

/// `lookupflags::symlink_follow`.
const SYMLINK_FOLLOW: u32 = 1 << 0;

/// `oflags` bits.
mod oflags {
    pub(super) const CREAT: u32 = 1 << 0;
    pub(super) const DIRECTORY: u32 = 1 << 1;
    pub(super) const EXCL: u32 = 1 << 2;
    pub(super) const TRUNC: u32 = 1 << 3;
}

/// `path_create_directory(fd, path) -> errno`
pub(crate) fn path_create_directory(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let path = guest::path(env.mem, a.u32(1), a.u32(2))?;
    let d = env.ctx.fds.dir(a.u32(0))?;
    d.check_mutable()?;
    d.dir.create_dir(&path)?;
    Ok(())
}

/// `path_remove_directory(fd, path) -> errno`
pub(crate) fn path_remove_directory(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let path = guest::path(env.mem, a.u32(1), a.u32(2))?;
    let d = env.ctx.fds.dir(a.u32(0))?;
    d.check_mutable()?;
    d.dir.remove_dir(&path)?;
    Ok(())
}

/// `path_unlink_file(fd, path) -> errno`
pub(crate) fn path_unlink_file(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let path = guest::path(env.mem, a.u32(1), a.u32(2))?;
    let d = env.ctx.fds.dir(a.u32(0))?;
    d.check_mutable()?;
    d.dir.remove_file(&path)?;
    Ok(())
}

fn stat(env: &mut Env<'_>, a: &Args<'_>) -> Result<Filestat, Fail> {
    let flags = a.u32(1);
    let path = guest::path(env.mem, a.u32(2), a.u32(3))?;
    let d = env.ctx.fds.dir(a.u32(0))?;
    let m = if flags & SYMLINK_FOLLOW != 0 {
        d.dir.metadata(&path)?
    } else {
        d.dir.symlink_metadata(&path)?
    };
    Ok(Filestat::from_cap(&m))
}

/// `path_filestat_get(fd, flags: lookupflags, path) -> (errno, filestat)`
pub(crate) fn path_filestat_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let st = stat(env, a)?;
    st.write(env.mem, a.u32(4))?;
    Ok(())
}

/// `path_filestat_get` of `wasi_unstable` (preview0 `filestat` layout).
pub(crate) fn path_filestat_get_preview0(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let st = stat(env, a)?;
    st.write_preview0(env.mem, a.u32(4))?;
    Ok(())
}

/// `path_filestat_set_times(fd, flags, path, atim, mtim, fst_flags) -> errno`
pub(crate) fn path_filestat_set_times(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let lookup = a.u32(1);
    let path = guest::path(env.mem, a.u32(2), a.u32(3))?;
    let flags = a.u32(6);
    if flags & !(fstflags::ATIM | fstflags::ATIM_NOW | fstflags::MTIM | fstflags::MTIM_NOW) != 0 {
        return Err(Errno::INVAL.into());
    }
    let atime = fd::time_spec(flags, fstflags::ATIM, fstflags::ATIM_NOW, a.u64(4))?;
    let mtime = fd::time_spec(flags, fstflags::MTIM, fstflags::MTIM_NOW, a.u64(5))?;
    let spec = |t: Option<std::time::SystemTime>| {
        t.map(|t| SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(t)))
    };
    let d = env.ctx.fds.dir(a.u32(0))?;
    d.check_mutable()?;
    if lookup & SYMLINK_FOLLOW != 0 {
        d.dir.set_times(&path, spec(atime), spec(mtime))?;
    } else {
        d.dir.set_symlink_times(&path, spec(atime), spec(mtime))?;
    }
    Ok(())
}

/// Two directory descriptors at once (`path_link`, `path_rename`), which may be the same.
fn with_two_dirs<R>(
    env: &mut Env<'_>,
    a: u32,
    b: u32,
    f: impl FnOnce(&DirDesc, &DirDesc) -> Result<R, Fail>,
) -> Result<R, Fail> {
    // Check both exist and are directories before borrowing them.
    env.ctx.fds.dir(a)?;
    env.ctx.fds.dir(b)?;
    if a == b {
        let d = env.ctx.fds.dir(a)?;
        return f(d, d);
    }
    // Clone one handle so both can be borrowed; the clone is dropped at the end.
    let other = {
        let d = env.ctx.fds.dir(b)?;
        DirDesc {
            dir: d.dir.try_clone()?,
            preopen: None,
            mutable: d.mutable,
            rights_base: d.rights_base,
            rights_inheriting: d.rights_inheriting,
            entries: None,
        }
    };
    let first = env.ctx.fds.dir(a)?;
    f(first, &other)
}

/// `path_link(old_fd, old_flags, old_path, new_fd, new_path) -> errno`. Hard links never
/// follow a symlink at the end of `old_path` here (`symlink_follow` is accepted and has no
/// effect): cap-std links the name itself, which is Linux's `linkat` default.
pub(crate) fn path_link(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let old = guest::path(env.mem, a.u32(2), a.u32(3))?;
    let new = guest::path(env.mem, a.u32(5), a.u32(6))?;
    with_two_dirs(env, a.u32(0), a.u32(4), |src, dst| {
        dst.check_mutable()?;
        src.dir.hard_link(&old, &dst.dir, &new)?;
        Ok(())
    })
}

/// `path_rename(fd, old_path, new_fd, new_path) -> errno`
pub(crate) fn path_rename(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let old = guest::path(env.mem, a.u32(1), a.u32(2))?;
    let new = guest::path(env.mem, a.u32(4), a.u32(5))?;
    with_two_dirs(env, a.u32(0), a.u32(3), |src, dst| {
        src.check_mutable()?;
        dst.check_mutable()?;
        src.dir.rename(&old, &dst.dir, &new)?;
        Ok(())
    })
}

/// `path_symlink(old_path, fd, new_path) -> errno`. cap-std refuses targets that would
/// lead outside the directory (absolute ones included), so the guest cannot plant a link
/// for something else to follow.
pub(crate) fn path_symlink(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let target = guest::path(env.mem, a.u32(0), a.u32(1))?;
    let link = guest::path(env.mem, a.u32(3), a.u32(4))?;
    let d = env.ctx.fds.dir(a.u32(2))?;
    d.check_mutable()?;
    d.dir.symlink(&target, &link)?;
    Ok(())
}

/// `path_readlink(fd, path, buf, buf_len) -> (errno, size)`: the link's text, cut to the
/// buffer (as readlink(2)).
pub(crate) fn path_readlink(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    use std::os::unix::ffi::OsStrExt;
    let path = guest::path(env.mem, a.u32(1), a.u32(2))?;
    let d = env.ctx.fds.dir(a.u32(0))?;
    let target = d.dir.read_link_contents(&path)?;
    let bytes = target.as_os_str().as_bytes();
    let n = bytes
        .len()
        .min(usize::try_from(a.u32(4)).map_err(|_| Errno::FAULT)?);
    guest::write(env.mem, a.u32(3), &bytes[..n])?;
    guest::write_size(env.mem, a.u32(5), n)?;
    Ok(())
}

/// `path_open(fd, dirflags, path, oflags, fs_rights_base, fs_rights_inheriting, fdflags)
/// -> (errno, fd)`.
///
/// The access mode comes from the rights asked for, as wasi-libc encodes `O_RDONLY`,
/// `O_WRONLY` and `O_RDWR`: `fd_read`/`fd_readdir` mean read, `fd_write` and the other
/// modifying rights mean write. The new descriptor's rights are those asked for, limited by
/// the directory's inheriting rights (`ENOTCAPABLE` is never raised for asking too much:
/// wasi-libc asks for everything the directory allows).
pub(crate) fn path_open(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let dirflags = a.u32(1);
    let path = guest::path(env.mem, a.u32(2), a.u32(3))?;
    let oflags = a.u32(4);
    let (base, inheriting) = (a.u64(5), a.u64(6));
    let fdflags = u16::try_from(a.u32(7)).map_err(|_| Errno::INVAL)?;
    let follow = dirflags & SYMLINK_FOLLOW != 0;

    let parent = env.ctx.fds.dir(a.u32(0))?;
    let mutable = parent.mutable;
    let base = base & parent.rights_inheriting;
    let inheriting = inheriting & parent.rights_inheriting;

    let desc = if oflags & oflags::DIRECTORY != 0 {
        if oflags & (oflags::CREAT | oflags::TRUNC) != 0 {
            return Err(Errno::INVAL.into());
        }
        let dir = if follow {
            parent.dir.open_dir(&path)?
        } else {
            parent.dir.open_dir_nofollow(&path)?
        };
        Desc::Dir(DirDesc::opened(dir, mutable, inheriting))
    } else {
        open_file(parent, &path, oflags, base, inheriting, fdflags, follow)?
    };
    let fd = env.ctx.fds.insert(desc)?;
    guest::write_u32(env.mem, a.u32(8), fd)?;
    Ok(())
}

fn open_file(
    parent: &DirDesc,
    path: &Path,
    oflags: u32,
    base: u64,
    inheriting: u64,
    fdflags: u16,
    follow: bool,
) -> Result<Desc, Fail> {
    let wants_write =
        base & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE) != 0
            || fdflags & fdflags::APPEND != 0
            || oflags & oflags::TRUNC != 0;
    let wants_read = base & (rights::FD_READ | rights::FD_READDIR) != 0 || !wants_write;
    let creates = oflags & oflags::CREAT != 0;
    if (wants_write || creates) && !parent.mutable {
        return Err(Errno::PERM.into());
    }
    let mut opts = cap_std::fs::OpenOptions::new();
    // The standard library refuses `create` without write access, which POSIX allows
    // (`open(p, O_CREAT | O_RDONLY)`): open for writing then, but the descriptor still only
    // reads (`FileDesc::write` below).
    opts.read(wants_read)
        .write(wants_write || creates)
        .create(creates)
        .create_new(creates && oflags & oflags::EXCL != 0)
        .truncate(oflags & oflags::TRUNC != 0)
        .follow(if follow {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        })
        // Opening a directory without `oflags::directory` is allowed (`open(".")`).
        .maybe_dir(true);
    let file = parent.dir.open_with(path, &opts)?;
    let is_dir = file.metadata()?.is_dir();
    let std_file = file.into_std();
    if is_dir {
        if wants_write {
            return Err(Errno::ISDIR.into());
        }
        let dir = cap_std::fs::Dir::from_std_file(std_file);
        return Ok(Desc::Dir(DirDesc::opened(dir, parent.mutable, inheriting)));
    }
    let mut granted = rights::FILE_COMMON;
    if wants_read {
        granted |= rights::FILE_READ;
    }
    if wants_write {
        granted |= rights::FILE_WRITE;
    }
    Ok(Desc::File(FileDesc {
        file: std_file,
        read: wants_read,
        write: wants_write,
        mutable: parent.mutable,
        flags: fdflags,
        rights_base: base & granted,
        rights_inheriting: inheriting,
    }))
}
