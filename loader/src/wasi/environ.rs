//! `environ_get` and `environ_sizes_get`: the program's environment as `KEY=VALUE` C strings
//! (same encoding as the arguments, see `args.rs`).

use super::args::{write_string_list, write_string_list_sizes};
use super::{Args, Env, WasiResult};

/// `environ_get(environ: **u8, environ_buf: *u8) -> errno`
pub(crate) fn environ_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    write_string_list(env.mem, &env.ctx.env, a.u32(0), a.u32(1))
}

/// `environ_sizes_get() -> (errno, count: size, buf_size: size)`
pub(crate) fn environ_sizes_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    write_string_list_sizes(env.mem, &env.ctx.env, a.u32(0), a.u32(1))
}
