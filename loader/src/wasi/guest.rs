//! Reading and writing the guest's linear memory from WASI functions: bounds-checked
//! little-endian loads and stores, byte ranges, strings and iovec lists. A pointer or length
//! that leaves the memory is `EFAULT` for the guest, never a host panic.

use super::errno::Errno;

/// `ptr..ptr+len` as a host range, if it lies inside a memory of `size` bytes.
fn range(size: usize, ptr: u32, len: u32) -> Result<std::ops::Range<usize>, Errno> {
    let start = usize::try_from(ptr).map_err(|_| Errno::FAULT)?;
    let len = usize::try_from(len).map_err(|_| Errno::FAULT)?;
    let end = start.checked_add(len).ok_or(Errno::FAULT)?;
    if end > size {
        return Err(Errno::FAULT);
    }
    Ok(start..end)
}

/// The bytes `ptr..ptr+len`.
pub(crate) fn bytes(mem: &[u8], ptr: u32, len: u32) -> Result<&[u8], Errno> {
    Ok(&mem[range(mem.len(), ptr, len)?])
}

/// The bytes `ptr..ptr+len`, mutably.
pub(crate) fn bytes_mut(mem: &mut [u8], ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
    let r = range(mem.len(), ptr, len)?;
    Ok(&mut mem[r])
}

fn array<const N: usize>(mem: &[u8], ptr: u32) -> Result<[u8; N], Errno> {
    let n = u32::try_from(N).map_err(|_| Errno::FAULT)?;
    let mut a = [0; N];
    a.copy_from_slice(bytes(mem, ptr, n)?);
    Ok(a)
}

pub(crate) fn read_u8(mem: &[u8], ptr: u32) -> Result<u8, Errno> {
    Ok(array::<1>(mem, ptr)?[0])
}

pub(crate) fn read_u16(mem: &[u8], ptr: u32) -> Result<u16, Errno> {
    Ok(u16::from_le_bytes(array(mem, ptr)?))
}

pub(crate) fn read_u32(mem: &[u8], ptr: u32) -> Result<u32, Errno> {
    Ok(u32::from_le_bytes(array(mem, ptr)?))
}

pub(crate) fn read_u64(mem: &[u8], ptr: u32) -> Result<u64, Errno> {
    Ok(u64::from_le_bytes(array(mem, ptr)?))
}

pub(crate) fn write(mem: &mut [u8], ptr: u32, data: &[u8]) -> Result<(), Errno> {
    let len = u32::try_from(data.len()).map_err(|_| Errno::FAULT)?;
    bytes_mut(mem, ptr, len)?.copy_from_slice(data);
    Ok(())
}

pub(crate) fn write_u8(mem: &mut [u8], ptr: u32, v: u8) -> Result<(), Errno> {
    write(mem, ptr, &[v])
}

pub(crate) fn write_u16(mem: &mut [u8], ptr: u32, v: u16) -> Result<(), Errno> {
    write(mem, ptr, &v.to_le_bytes())
}

pub(crate) fn write_u32(mem: &mut [u8], ptr: u32, v: u32) -> Result<(), Errno> {
    write(mem, ptr, &v.to_le_bytes())
}

pub(crate) fn write_u64(mem: &mut [u8], ptr: u32, v: u64) -> Result<(), Errno> {
    write(mem, ptr, &v.to_le_bytes())
}

/// Writes a `size` result (a `u32` in wasm32), refusing counts that do not fit.
pub(crate) fn write_size(mem: &mut [u8], ptr: u32, v: usize) -> Result<(), Errno> {
    write_u32(mem, ptr, u32::try_from(v).map_err(|_| Errno::OVERFLOW)?)
}

/// Reads an `iovec`/`ciovec` array (`{buf: u32, buf_len: u32}` each) and checks that every
/// buffer lies inside the memory.
pub(crate) fn iovecs(mem: &[u8], iovs: u32, count: u32) -> Result<Vec<(u32, u32)>, Errno> {
    let total = count.checked_mul(8).ok_or(Errno::FAULT)?;
    bytes(mem, iovs, total)?;
    let mut out = Vec::with_capacity(usize::try_from(count).map_err(|_| Errno::FAULT)?);
    for i in 0..count {
        let at = iovs + i * 8;
        let buf = read_u32(mem, at)?;
        let len = read_u32(mem, at + 4)?;
        range(mem.len(), buf, len)?;
        out.push((buf, len));
    }
    Ok(out)
}

/// The concatenation of the buffers of a `ciovec` array.
pub(crate) fn gather(mem: &[u8], iovs: &[(u32, u32)]) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    for &(buf, len) in iovs {
        out.extend_from_slice(bytes(mem, buf, len)?);
    }
    Ok(out)
}

/// Copies `data` into the buffers of an `iovec` array, in order.
pub(crate) fn scatter(mem: &mut [u8], iovs: &[(u32, u32)], mut data: &[u8]) -> Result<(), Errno> {
    for &(buf, len) in iovs {
        if data.is_empty() {
            break;
        }
        let n = data
            .len()
            .min(usize::try_from(len).map_err(|_| Errno::FAULT)?);
        let dst = bytes_mut(mem, buf, u32::try_from(n).map_err(|_| Errno::FAULT)?)?;
        dst.copy_from_slice(&data[..n]);
        data = &data[n..];
    }
    Ok(())
}

/// The total length of an `iovec` array (what one read may return at most).
pub(crate) fn total_len(iovs: &[(u32, u32)]) -> usize {
    iovs.iter()
        .map(|&(_, len)| usize::try_from(len).unwrap_or(usize::MAX))
        .fold(0usize, usize::saturating_add)
}

/// A path argument: the bytes `ptr..ptr+len` (WASI paths are not NUL-terminated).
pub(crate) fn path(mem: &[u8], ptr: u32, len: u32) -> Result<std::path::PathBuf, Errno> {
    use std::os::unix::ffi::OsStrExt;
    let raw = bytes(mem, ptr, len)?;
    if raw.contains(&0) {
        return Err(Errno::INVAL);
    }
    Ok(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_is_efault() {
        let mut mem = vec![0u8; 16];
        assert_eq!(read_u32(&mem, 12), Ok(0));
        assert_eq!(read_u32(&mem, 13), Err(Errno::FAULT));
        assert_eq!(read_u64(&mem, u32::MAX), Err(Errno::FAULT));
        assert_eq!(write_u64(&mut mem, 9, 1), Err(Errno::FAULT));
        assert_eq!(iovecs(&mem, 0, u32::MAX), Err(Errno::FAULT));
        write_u32(&mut mem, 0, 8).unwrap();
        write_u32(&mut mem, 4, 9).unwrap();
        assert_eq!(iovecs(&mem, 0, 1), Err(Errno::FAULT));
    }

    #[test]
    fn scatter_fills_buffers_in_order() {
        let mut mem = vec![0u8; 32];
        scatter(&mut mem, &[(16, 2), (20, 4)], b"abcde").unwrap();
        assert_eq!(&mem[16..24], b"ab\0\0cde\0");
    }
}
