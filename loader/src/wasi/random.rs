//! `random_get`, and the replaceable random source behind it.

use super::{Args, Env, WasiResult, guest};

/// Where a [`super::WasiCtx`] gets random bytes. Replace it (with
/// [`super::WasiCtxBuilder::random`]) for deterministic tests.
pub trait WasiRandom: Send + 'static {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    ///
    /// When no random bytes can be had; the guest gets the matching errno (`EIO` by
    /// default).
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<()>;
}

/// The operating system's random source (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct HostRandom;

impl WasiRandom for HostRandom {
    fn fill(&mut self, mut buf: &mut [u8]) -> std::io::Result<()> {
        while !buf.is_empty() {
            match rustix::rand::getrandom(&mut *buf, rustix::rand::GetRandomFlags::empty()) {
                Ok(n) => buf = &mut buf[n..],
                Err(rustix::io::Errno::INTR) => {}
                // Never fall back to weaker bytes: the guest gets the error.
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// A reproducible byte stream (splitmix64 from a seed): not random at all, for tests.
#[derive(Debug, Clone)]
pub struct DeterministicRandom {
    state: u64,
}

impl DeterministicRandom {
    /// The stream for `seed`.
    pub fn new(seed: u64) -> DeterministicRandom {
        DeterministicRandom { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl WasiRandom for DeterministicRandom {
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// `random_get(buf: *u8, buf_len: size) -> errno`
pub(crate) fn random_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let buf = guest::bytes_mut(env.mem, a.u32(0), a.u32(1))?;
    env.ctx.random.fill(buf)?;
    Ok(())
}
