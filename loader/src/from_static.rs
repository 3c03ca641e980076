//! [`Artifact::from_static`]: loading an artifact embedded in the program with
//! `include_bytes!` (built by `wasmc_compiler::build` in a `build.rs`), with no file.

use crate::artifact::Artifact;
use crate::error::Error;

impl Artifact {
    /// Loads an artifact embedded in the program, typically
    /// `include_bytes!(concat!(env!("OUT_DIR"), "/plugin.wasmc.o"))` written by
    /// `wasmc_compiler::build::compile_file` in a build script. No file is read at run time.
    ///
    /// `include_bytes!` gives no alignment guarantee, while the object parser reads headers
    /// in place: misaligned bytes are first copied to an aligned buffer. Aligned bytes are
    /// used in place: the data segments are read from them, not copied at load. The code
    /// itself is always copied into fresh executable pages (as [`Artifact::from_bytes`]
    /// does), so the static bytes are never executed in place.
    ///
    /// # Errors
    ///
    /// As [`Artifact::from_bytes`]: bytes built for another target, by another wasmc version
    /// or damaged are refused with a [`crate::LoadError`] saying why.
    ///
    /// # Safety
    ///
    /// As [`Artifact::from_bytes`]: the bytes become native code. They must be an artifact
    /// produced by a trusted wasmc compiler (the usual case for bytes your own build script
    /// produced).
    pub unsafe fn from_static(bytes: &'static [u8]) -> Result<Artifact, Error> {
        const ALIGN: usize = 16;
        if (bytes.as_ptr() as usize).is_multiple_of(ALIGN) {
            // SAFETY: forwarded from the caller.
            return unsafe { Artifact::load_static(bytes) };
        }
        let mut buf = vec![0u128; bytes.len().div_ceil(ALIGN)];
        // SAFETY: `buf` has at least `bytes.len()` bytes; u128 has no invalid bit patterns
        // and the regions do not overlap.
        let aligned = unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                buf.as_mut_ptr().cast::<u8>(),
                bytes.len(),
            );
            std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), bytes.len())
        };
        // SAFETY: forwarded from the caller; `aligned` holds the same bytes.
        unsafe { Artifact::from_bytes(aligned) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_misaligned_static_bytes() {
        let wasm =
            wat::parse_str(r#"(module (func (export "k") (result i32) i32.const 42))"#).unwrap();
        let bytes = wasmc_compiler::compile(&wasm).unwrap();
        // Leak two copies, one at an odd address, as `include_bytes!` may place them.
        let mut padded = vec![0u8; bytes.len() + 1];
        padded[1..].copy_from_slice(&bytes);
        let padded: &'static [u8] = Box::leak(padded.into_boxed_slice());
        for b in [
            &padded[1..],
            Box::leak(bytes.clone().into_boxed_slice()) as &[u8],
        ] {
            // SAFETY: compiled just above.
            let a = unsafe { Artifact::from_static(b) }.unwrap();
            let mut store = crate::Store::new(());
            let i = crate::Linker::new().instantiate(&mut store, &a).unwrap();
            let k = i.get_typed_func::<(), i32>(&store, "k").unwrap();
            assert_eq!(k.call(&mut store, ()).unwrap(), 42);
        }
    }
}
