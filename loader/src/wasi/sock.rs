//! `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`. Preview1 can only use sockets
//! the host preopened, and this context never preopens any: on a valid descriptor these
//! return `ENOTSOCK` (it is not a socket), on an invalid one `EBADF`.

use super::errno::Errno;
use super::{Args, Env, WasiResult};

fn not_a_socket(env: &mut Env<'_>, fd: u32) -> WasiResult {
    env.ctx.fds.get(fd)?;
    Err(Errno::NOTSOCK.into())
}

/// `sock_accept(fd, flags) -> (errno, fd)`
pub(crate) fn sock_accept(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    not_a_socket(env, a.u32(0))
}

/// `sock_recv(fd, ri_data, ri_flags) -> (errno, size, roflags)`
pub(crate) fn sock_recv(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    not_a_socket(env, a.u32(0))
}

/// `sock_send(fd, si_data, si_flags) -> (errno, size)`
pub(crate) fn sock_send(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    not_a_socket(env, a.u32(0))
}

/// `sock_shutdown(fd, how) -> errno`
pub(crate) fn sock_shutdown(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    not_a_socket(env, a.u32(0))
}
