//! WASI preview1 `errno` values (exactly the spec's numbering, as in wasi-libc's
//! `wasi/api.h`) and the mapping from host I/O errors to them.

use std::io;

/// A WASI `errno` (preview1 numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub u16);

macro_rules! errnos {
    ($($name:ident = $v:literal,)*) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($v), ").")]
                pub const $name: Errno = Errno($v);
            )*
        }
    };
}

errnos! {
    SUCCESS = 0, TOOBIG = 1, ACCES = 2, ADDRINUSE = 3, ADDRNOTAVAIL = 4, AFNOSUPPORT = 5,
    AGAIN = 6, ALREADY = 7, BADF = 8, BADMSG = 9, BUSY = 10, CANCELED = 11, CHILD = 12,
    CONNABORTED = 13, CONNREFUSED = 14, CONNRESET = 15, DEADLK = 16, DESTADDRREQ = 17,
    DOM = 18, DQUOT = 19, EXIST = 20, FAULT = 21, FBIG = 22, HOSTUNREACH = 23, IDRM = 24,
    ILSEQ = 25, INPROGRESS = 26, INTR = 27, INVAL = 28, IO = 29, ISCONN = 30, ISDIR = 31,
    LOOP = 32, MFILE = 33, MLINK = 34, MSGSIZE = 35, MULTIHOP = 36, NAMETOOLONG = 37,
    NETDOWN = 38, NETRESET = 39, NETUNREACH = 40, NFILE = 41, NOBUFS = 42, NODEV = 43,
    NOENT = 44, NOEXEC = 45, NOLCK = 46, NOLINK = 47, NOMEM = 48, NOMSG = 49,
    NOPROTOOPT = 50, NOSPC = 51, NOSYS = 52, NOTCONN = 53, NOTDIR = 54, NOTEMPTY = 55,
    NOTRECOVERABLE = 56, NOTSOCK = 57, NOTSUP = 58, NOTTY = 59, NXIO = 60, OVERFLOW = 61,
    OWNERDEAD = 62, PERM = 63, PIPE = 64, PROTO = 65, PROTONOSUPPORT = 66, PROTOTYPE = 67,
    RANGE = 68, ROFS = 69, SPIPE = 70, SRCH = 71, STALE = 72, TIMEDOUT = 73, TXTBSY = 74,
    XDEV = 75, NOTCAPABLE = 76,
}

impl From<io::Error> for Errno {
    fn from(e: io::Error) -> Errno {
        if let Some(code) = e.raw_os_error() {
            return from_host_errno(code);
        }
        // Errors cap-std makes up itself carry no OS code: the sandbox's "a path led outside
        // of the filesystem" is `PermissionDenied`, like the `EPERM` wasmtime reports.
        match e.kind() {
            io::ErrorKind::NotFound => Errno::NOENT,
            io::ErrorKind::PermissionDenied => Errno::PERM,
            io::ErrorKind::AlreadyExists => Errno::EXIST,
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => Errno::INVAL,
            io::ErrorKind::NotADirectory => Errno::NOTDIR,
            io::ErrorKind::IsADirectory => Errno::ISDIR,
            io::ErrorKind::DirectoryNotEmpty => Errno::NOTEMPTY,
            io::ErrorKind::ReadOnlyFilesystem => Errno::ROFS,
            io::ErrorKind::InvalidFilename => Errno::NAMETOOLONG,
            io::ErrorKind::StorageFull => Errno::NOSPC,
            io::ErrorKind::FileTooLarge => Errno::FBIG,
            io::ErrorKind::CrossesDevices => Errno::XDEV,
            io::ErrorKind::BrokenPipe => Errno::PIPE,
            io::ErrorKind::WouldBlock => Errno::AGAIN,
            io::ErrorKind::Interrupted => Errno::INTR,
            io::ErrorKind::Unsupported => Errno::NOTSUP,
            io::ErrorKind::OutOfMemory => Errno::NOMEM,
            io::ErrorKind::NotSeekable => Errno::SPIPE,
            _ => Errno::IO,
        }
    }
}

/// Maps a Linux/macOS `errno` to WASI's (the names are the same; the numbers are not).
fn from_host_errno(code: i32) -> Errno {
    use libc as c;
    match code {
        c::E2BIG => Errno::TOOBIG,
        c::EACCES => Errno::ACCES,
        c::EADDRINUSE => Errno::ADDRINUSE,
        c::EADDRNOTAVAIL => Errno::ADDRNOTAVAIL,
        c::EAFNOSUPPORT => Errno::AFNOSUPPORT,
        c::EAGAIN => Errno::AGAIN,
        c::EALREADY => Errno::ALREADY,
        c::EBADF => Errno::BADF,
        c::EBADMSG => Errno::BADMSG,
        c::EBUSY => Errno::BUSY,
        c::ECANCELED => Errno::CANCELED,
        c::ECHILD => Errno::CHILD,
        c::ECONNABORTED => Errno::CONNABORTED,
        c::ECONNREFUSED => Errno::CONNREFUSED,
        c::ECONNRESET => Errno::CONNRESET,
        c::EDEADLK => Errno::DEADLK,
        c::EDESTADDRREQ => Errno::DESTADDRREQ,
        c::EDOM => Errno::DOM,
        c::EDQUOT => Errno::DQUOT,
        c::EEXIST => Errno::EXIST,
        c::EFAULT => Errno::FAULT,
        c::EFBIG => Errno::FBIG,
        c::EHOSTUNREACH => Errno::HOSTUNREACH,
        c::EIDRM => Errno::IDRM,
        c::EILSEQ => Errno::ILSEQ,
        c::EINPROGRESS => Errno::INPROGRESS,
        c::EINTR => Errno::INTR,
        c::EINVAL => Errno::INVAL,
        c::EIO => Errno::IO,
        c::EISCONN => Errno::ISCONN,
        c::EISDIR => Errno::ISDIR,
        c::ELOOP => Errno::LOOP,
        c::EMFILE => Errno::MFILE,
        c::EMLINK => Errno::MLINK,
        c::EMSGSIZE => Errno::MSGSIZE,
        c::EMULTIHOP => Errno::MULTIHOP,
        c::ENAMETOOLONG => Errno::NAMETOOLONG,
        c::ENETDOWN => Errno::NETDOWN,
        c::ENETRESET => Errno::NETRESET,
        c::ENETUNREACH => Errno::NETUNREACH,
        c::ENFILE => Errno::NFILE,
        c::ENOBUFS => Errno::NOBUFS,
        c::ENODEV => Errno::NODEV,
        c::ENOENT => Errno::NOENT,
        c::ENOEXEC => Errno::NOEXEC,
        c::ENOLCK => Errno::NOLCK,
        c::ENOLINK => Errno::NOLINK,
        c::ENOMEM => Errno::NOMEM,
        c::ENOMSG => Errno::NOMSG,
        c::ENOPROTOOPT => Errno::NOPROTOOPT,
        c::ENOSPC => Errno::NOSPC,
        c::ENOSYS => Errno::NOSYS,
        c::ENOTCONN => Errno::NOTCONN,
        c::ENOTDIR => Errno::NOTDIR,
        c::ENOTEMPTY => Errno::NOTEMPTY,
        c::ENOTRECOVERABLE => Errno::NOTRECOVERABLE,
        c::ENOTSOCK => Errno::NOTSOCK,
        c::ENOTSUP => Errno::NOTSUP,
        c::ENOTTY => Errno::NOTTY,
        c::ENXIO => Errno::NXIO,
        c::EOVERFLOW => Errno::OVERFLOW,
        c::EOWNERDEAD => Errno::OWNERDEAD,
        c::EPERM => Errno::PERM,
        c::EPIPE => Errno::PIPE,
        c::EPROTO => Errno::PROTO,
        c::EPROTONOSUPPORT => Errno::PROTONOSUPPORT,
        c::EPROTOTYPE => Errno::PROTOTYPE,
        c::ERANGE => Errno::RANGE,
        c::EROFS => Errno::ROFS,
        c::ESPIPE => Errno::SPIPE,
        c::ESRCH => Errno::SRCH,
        c::ESTALE => Errno::STALE,
        c::ETIMEDOUT => Errno::TIMEDOUT,
        c::ETXTBSY => Errno::TXTBSY,
        c::EXDEV => Errno::XDEV,
        _ => Errno::IO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_errors_map_to_wasi_numbers() {
        assert_eq!(
            Errno::from(io::Error::from_raw_os_error(libc::ENOENT)).0,
            44
        );
        assert_eq!(
            Errno::from(io::Error::from_raw_os_error(libc::EEXIST)).0,
            20
        );
        assert_eq!(
            Errno::from(io::Error::from_raw_os_error(libc::ENOTEMPTY)).0,
            55
        );
        let escape = io::Error::new(io::ErrorKind::PermissionDenied, "outside");
        assert_eq!(Errno::from(escape), Errno::PERM);
        assert_eq!(Errno::NOTCAPABLE.0, 76);
    }
}
