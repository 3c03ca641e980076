//! `proc_exit`, `proc_raise` and `sched_yield`.

use super::errno::Errno;
use super::{Args, Env, Fail, WasiResult};
use crate::error::Error;

/// `proc_exit(rval: exitcode)`: ends the call with [`crate::ErrorKind::Exit`] carrying the
/// status (the full `u32`, reinterpreted as `i32`; hosts keep what their OS keeps).
pub(crate) fn proc_exit(_env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    Err(Fail::Fatal(Error::exit(a.u32(0).cast_signed())))
}

/// `proc_raise(sig: signal) -> errno`: signals are not part of the sandbox; always
/// `ENOTSUP`, as wasmtime answers (signals were dropped from later WASI versions).
pub(crate) fn proc_raise(_env: &mut Env<'_>, _a: &Args<'_>) -> WasiResult {
    Err(Errno::NOTSUP.into())
}

/// `sched_yield() -> errno`
pub(crate) fn sched_yield(_env: &mut Env<'_>, _a: &Args<'_>) -> WasiResult {
    std::thread::yield_now();
    Ok(())
}
