//! `args_get` and `args_sizes_get`: the program's command line, as NUL-terminated strings.
//! The string-list encoding is shared with `environ.rs`.

use super::{Args, Env, WasiResult, guest};

/// Writes `list` as C strings packed into `buf` and their addresses into `ptrs` (the layout
/// `args_get` and `environ_get` share).
pub(crate) fn write_string_list(
    mem: &mut [u8],
    list: &[Vec<u8>],
    ptrs: u32,
    buf: u32,
) -> WasiResult {
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        let slot = u32::try_from(i)
            .ok()
            .and_then(|i| i.checked_mul(4))
            .and_then(|o| ptrs.checked_add(o))
            .ok_or(super::Errno::FAULT)?;
        guest::write_u32(mem, slot, at)?;
        guest::write(mem, at, s)?;
        let len = u32::try_from(s.len()).map_err(|_| super::Errno::FAULT)?;
        let nul = at.checked_add(len).ok_or(super::Errno::FAULT)?;
        guest::write_u8(mem, nul, 0)?;
        at = nul.checked_add(1).ok_or(super::Errno::FAULT)?;
    }
    Ok(())
}

/// Writes the count and the total size (with NULs) of `list`.
pub(crate) fn write_string_list_sizes(
    mem: &mut [u8],
    list: &[Vec<u8>],
    count_ptr: u32,
    size_ptr: u32,
) -> WasiResult {
    let size: usize = list.iter().map(|s| s.len() + 1).sum();
    guest::write_size(mem, count_ptr, list.len())?;
    guest::write_size(mem, size_ptr, size)?;
    Ok(())
}

/// `args_get(argv: **u8, argv_buf: *u8) -> errno`
pub(crate) fn args_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    write_string_list(env.mem, &env.ctx.args, a.u32(0), a.u32(1))
}

/// `args_sizes_get() -> (errno, argc: size, argv_buf_size: size)`
pub(crate) fn args_sizes_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    write_string_list_sizes(env.mem, &env.ctx.args, a.u32(0), a.u32(1))
}
