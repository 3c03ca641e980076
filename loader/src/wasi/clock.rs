//! `clock_res_get` and `clock_time_get`, and the replaceable clock source behind them (also
//! used by `poll_oneoff` to sleep).

use std::time::{Duration, Instant, SystemTime};

use super::errno::Errno;
use super::{Args, Env, WasiResult, guest};

/// The four preview1 clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasiClock {
    /// `realtime`: nanoseconds since the Unix epoch.
    Realtime,
    /// `monotonic`: nanoseconds since an arbitrary start, never decreasing.
    Monotonic,
    /// `process_cputime_id`: CPU time of the host process.
    ProcessCputime,
    /// `thread_cputime_id`: CPU time of the calling host thread.
    ThreadCputime,
}

impl WasiClock {
    /// The clock with preview1 id `id`, if there is one.
    pub fn from_id(id: u32) -> Option<WasiClock> {
        Some(match id {
            0 => WasiClock::Realtime,
            1 => WasiClock::Monotonic,
            2 => WasiClock::ProcessCputime,
            3 => WasiClock::ThreadCputime,
            _ => return None,
        })
    }
}

/// Where a [`super::WasiCtx`] gets time from. Replace it (with
/// [`super::WasiCtxBuilder::clocks`]) for deterministic tests.
pub trait WasiClocks: Send + 'static {
    /// The current value of `clock`, in nanoseconds.
    fn now(&self, clock: WasiClock) -> u64;
    /// The resolution of `clock`, in nanoseconds.
    fn resolution(&self, clock: WasiClock) -> u64;
    /// Blocks the calling thread for `duration` (for `poll_oneoff` clock subscriptions).
    fn sleep(&self, duration: Duration);
}

/// The host's clocks: `realtime` from the system clock, `monotonic` from [`Instant`] (counted
/// from the creation of this value), the CPU-time clocks from `clock_gettime`.
#[derive(Debug, Clone, Copy)]
pub struct HostClocks {
    start: Instant,
}

impl HostClocks {
    /// Host clocks whose `monotonic` clock starts now.
    pub fn new() -> HostClocks {
        HostClocks {
            start: Instant::now(),
        }
    }
}

impl Default for HostClocks {
    fn default() -> Self {
        HostClocks::new()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn timespec_nanos(t: rustix::time::Timespec) -> u64 {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let ns = u64::try_from(t.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(ns)
}

fn host_id(clock: WasiClock) -> rustix::time::ClockId {
    use rustix::time::ClockId;
    match clock {
        WasiClock::Realtime => ClockId::Realtime,
        WasiClock::Monotonic => ClockId::Monotonic,
        WasiClock::ProcessCputime => ClockId::ProcessCPUTime,
        WasiClock::ThreadCputime => ClockId::ThreadCPUTime,
    }
}

impl WasiClocks for HostClocks {
    fn now(&self, clock: WasiClock) -> u64 {
        match clock {
            WasiClock::Realtime => SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, nanos),
            WasiClock::Monotonic => nanos(self.start.elapsed()),
            cpu => timespec_nanos(rustix::time::clock_gettime(host_id(cpu))),
        }
    }

    fn resolution(&self, clock: WasiClock) -> u64 {
        // The kernel's own answer (1 ns for the usual clocks on Linux); never report 0,
        // which programs may divide by.
        timespec_nanos(rustix::time::clock_getres(host_id(clock))).max(1)
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// `clock_res_get(id: clockid) -> (errno, timestamp)`
pub(crate) fn clock_res_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let clock = WasiClock::from_id(a.u32(0)).ok_or(Errno::INVAL)?;
    let res = env.ctx.clocks.resolution(clock);
    guest::write_u64(env.mem, a.u32(1), res)?;
    Ok(())
}

/// `clock_time_get(id: clockid, precision: timestamp) -> (errno, timestamp)`; the precision
/// is a hint and is ignored.
pub(crate) fn clock_time_get(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    let clock = WasiClock::from_id(a.u32(0)).ok_or(Errno::INVAL)?;
    let now = env.ctx.clocks.now(clock);
    guest::write_u64(env.mem, a.u32(2), now)?;
    Ok(())
}
