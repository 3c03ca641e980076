//! `poll_oneoff`: waits for clock deadlines and descriptor readiness.
//!
//! Descriptors here never block for long: regular files are always ready (reads report the
//! bytes left before the end), outputs are always ready to write, in-memory stdin reports
//! the bytes it has left, and inherited stdin is reported ready (1 byte) without asking the
//! OS, so a following read may block until input arrives. That is the simplification the
//! issue allows; it is documented in `docs/WASI.md`. If any descriptor subscription is
//! ready, `poll_oneoff` returns at once with those events (and any clock already due);
//! otherwise it sleeps until the earliest clock deadline, through the context's clocks (so
//! tests can replace the sleep), and reports every clock due by then.

use std::time::Duration;

use super::clock::WasiClock;
use super::errno::Errno;
use super::fd::Desc;
use super::{Args, Env, WasiResult, guest};

/// `eventtype` values.
const EVENT_CLOCK: u8 = 0;
const EVENT_FD_READ: u8 = 1;
const EVENT_FD_WRITE: u8 = 2;
/// `subclockflags::subscription_clock_abstime`.
const ABSTIME: u16 = 1;

/// Where the fields of a `subscription` are, in one ABI version.
struct Layout {
    /// Size of one subscription.
    size: u32,
    /// Offset of the union's tag.
    tag: u32,
    /// Offsets of the clock subscription's fields.
    clock_id: u32,
    timeout: u32,
    flags: u32,
    /// Offset of the fd subscription's descriptor.
    fd: u32,
}

/// Preview1: `{userdata u64 @0, tag u8 @8, clock {id u32 @16, timeout u64 @24,
/// precision u64 @32, flags u16 @40} | fd u32 @16}`, 48 bytes.
const PREVIEW1: Layout = Layout {
    size: 48,
    tag: 8,
    clock_id: 16,
    timeout: 24,
    flags: 40,
    fd: 16,
};

/// Preview0: the clock subscription starts with an extra `identifier: u64`, so
/// `{userdata @0, tag @8, clock {identifier @16, id @24, timeout @32, precision @40,
/// flags @48} | fd @16}`, 56 bytes.
const PREVIEW0: Layout = Layout {
    size: 56,
    tag: 8,
    clock_id: 24,
    timeout: 32,
    flags: 48,
    fd: 16,
};

enum Sub {
    Clock { deadline: u64, clock: WasiClock },
    Fd { fd: u32, read: bool },
}

/// One `event` to report: `{userdata u64 @0, error u16 @8, type u8 @10,
/// fd_readwrite {nbytes u64 @16, flags u16 @24}}`, 32 bytes.
struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
}

/// `poll_oneoff(in: *subscription, out: *event, nsubscriptions: size) -> (errno, size)`
pub(crate) fn poll_oneoff(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    poll(env, a, &PREVIEW1)
}

/// `poll_oneoff` of `wasi_unstable` (preview0 `subscription` layout).
pub(crate) fn poll_oneoff_preview0(env: &mut Env<'_>, a: &Args<'_>) -> WasiResult {
    poll(env, a, &PREVIEW0)
}

fn poll(env: &mut Env<'_>, a: &Args<'_>, layout: &Layout) -> WasiResult {
    let (input, output, count, nevents) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    if count == 0 {
        return Err(Errno::INVAL.into());
    }
    let total = count.checked_mul(layout.size).ok_or(Errno::FAULT)?;
    guest::bytes(env.mem, input, total)?;
    guest::bytes(env.mem, output, count.checked_mul(32).ok_or(Errno::FAULT)?)?;

    let mut subs = Vec::new();
    for i in 0..count {
        let s = input + i * layout.size;
        let userdata = guest::read_u64(env.mem, s)?;
        let sub = match guest::read_u8(env.mem, s + layout.tag)? {
            EVENT_CLOCK => {
                let id = guest::read_u32(env.mem, s + layout.clock_id)?;
                let timeout = guest::read_u64(env.mem, s + layout.timeout)?;
                let flags = guest::read_u16(env.mem, s + layout.flags)?;
                match WasiClock::from_id(id) {
                    Some(clock) => {
                        let now = env.ctx.clocks.now(clock);
                        let deadline = if flags & ABSTIME != 0 {
                            timeout
                        } else {
                            now.saturating_add(timeout)
                        };
                        Ok(Sub::Clock { deadline, clock })
                    }
                    None => Err(Errno::INVAL),
                }
            }
            kind @ (EVENT_FD_READ | EVENT_FD_WRITE) => Ok(Sub::Fd {
                fd: guest::read_u32(env.mem, s + layout.fd)?,
                read: kind == EVENT_FD_READ,
            }),
            _ => return Err(Errno::INVAL.into()),
        };
        subs.push((userdata, sub));
    }

    let mut events = Vec::new();
    for (userdata, sub) in &subs {
        match sub {
            Ok(Sub::Fd { fd, read }) => {
                let kind = if *read { EVENT_FD_READ } else { EVENT_FD_WRITE };
                let (error, nbytes) = fd_readiness(env, *fd, *read);
                events.push(Event {
                    userdata: *userdata,
                    error,
                    kind,
                    nbytes,
                });
            }
            Err(e) => events.push(Event {
                userdata: *userdata,
                error: *e,
                kind: EVENT_CLOCK,
                nbytes: 0,
            }),
            Ok(Sub::Clock { .. }) => {}
        }
    }

    // Clocks: if nothing else is ready, sleep until the earliest one is due.
    if events.is_empty() {
        let wait = subs
            .iter()
            .filter_map(|(_, s)| match s {
                Ok(Sub::Clock { deadline, clock }) => {
                    Some(deadline.saturating_sub(env.ctx.clocks.now(*clock)))
                }
                _ => None,
            })
            .min()
            .unwrap_or(0);
        if wait > 0 {
            env.ctx.clocks.sleep(Duration::from_nanos(wait));
        }
    }
    for (userdata, sub) in &subs {
        if let Ok(Sub::Clock { deadline, clock }) = sub
            && env.ctx.clocks.now(*clock) >= *deadline
        {
            events.push(Event {
                userdata: *userdata,
                error: Errno::SUCCESS,
                kind: EVENT_CLOCK,
                nbytes: 0,
            });
        }
    }
    // A replaced clock may not advance while "sleeping": report the earliest clock anyway,
    // since its wait is over.
    if events.is_empty() {
        let earliest = subs
            .iter()
            .filter_map(|(u, s)| match s {
                Ok(Sub::Clock { deadline, .. }) => Some((*deadline, *u)),
                _ => None,
            })
            .min();
        if let Some((_, userdata)) = earliest {
            events.push(Event {
                userdata,
                error: Errno::SUCCESS,
                kind: EVENT_CLOCK,
                nbytes: 0,
            });
        }
    }

    for (i, e) in (0u32..).zip(&events) {
        let p = output + i * 32;
        guest::write(env.mem, p, &[0; 32])?;
        guest::write_u64(env.mem, p, e.userdata)?;
        guest::write_u16(env.mem, p + 8, e.error.0)?;
        guest::write_u8(env.mem, p + 10, e.kind)?;
        guest::write_u64(env.mem, p + 16, e.nbytes)?;
    }
    guest::write_size(env.mem, nevents, events.len())?;
    Ok(())
}

/// Whether `fd` is ready for reading or writing, and how many bytes (see the module
/// documentation).
fn fd_readiness(env: &mut Env<'_>, fd: u32, read: bool) -> (Errno, u64) {
    match env.ctx.fds.get(fd) {
        Err(e) => (e, 0),
        Ok(Desc::Stdin(input)) if read => (Errno::SUCCESS, input.ready_bytes()),
        Ok(Desc::Out(_)) if !read => (Errno::SUCCESS, 0),
        Ok(Desc::File(f)) => {
            if read {
                let left = f.file.metadata().ok().and_then(|m| {
                    use std::io::Seek;
                    let pos = f.file.stream_position().ok()?;
                    Some(m.len().saturating_sub(pos))
                });
                (Errno::SUCCESS, left.unwrap_or(0))
            } else {
                (Errno::SUCCESS, 0)
            }
        }
        Ok(Desc::Dir(_)) => (Errno::ISDIR, 0),
        Ok(_) => (Errno::BADF, 0),
    }
}
