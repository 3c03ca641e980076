//! POSIX signal handling: installation, the handler itself, per-thread alternate stacks, and
//! the per-architecture `ucontext` accessors.
//!
//! Handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE are installed once per process with
//! `SA_SIGINFO | SA_ONSTACK | SA_NODEFER`; the previous actions are kept and a fault that is
//! not a trap site of the current activation's code is passed on to them, so a host that
//! handles SIGSEGV itself (a garbage collector's write barrier, a JIT, a crash reporter) keeps
//! working for faults outside Wasm code, including faults in host functions called from Wasm.
//! A previous default action stays the default (a real fault crashes as it would have; a
//! signal sent with `kill` is re-raised), a previous "ignore" stays ignored for sent signals.
//!
//! Only handlers installed *before* the loader's first call into Wasm are chained to; a host
//! that installs a handler for these signals later replaces ours and must chain to it itself
//! (as it would for any other library that handles faults). Chained handlers run on our
//! alternate stack, with our signal mask (`SA_NODEFER`, nothing blocked) rather than theirs.
//!
//! Tests: `loader/tests/signals.rs` (chaining, alternate stack, many threads trapping).

use std::cell::RefCell;
use std::io;
use std::mem::MaybeUninit;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Activation, SignalTrap, current};
use crate::mmap::{Mmap, Prot, page_size};
use crate::preempt;

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The actions that were installed before ours, indexed like [`SIGNALS`]. Written once under
/// `INSTALL` before our handlers can run, read-only afterwards (also from the handler).
struct PrevActions<const N: usize>(std::cell::UnsafeCell<[MaybeUninit<libc::sigaction>; N]>);

// SAFETY: written only inside `INSTALL.call_once`, before any handler using it is installed;
// afterwards only read.
unsafe impl<const N: usize> Sync for PrevActions<N> {}

static PREV: PrevActions<4> = PrevActions(std::cell::UnsafeCell::new(
    [const { MaybeUninit::uninit() }; 4],
));
static INSTALL: Once = Once::new();

/// Installs the signal handlers (once per process).
pub(crate) fn init_process() {
    INSTALL.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: a zeroed sigaction is a valid initial value; we fill the fields we use.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            action.sa_sigaction = handler as *const () as usize;
            // SAFETY: sa_mask is a valid sigset_t to empty.
            unsafe { libc::sigemptyset(&mut action.sa_mask) };
            // SAFETY: PREV is written only here, inside call_once, before the handler for
            // this signal exists; the pointer is to the i-th slot.
            let prev = unsafe { (*PREV.0.get())[i].as_mut_ptr() };
            // SAFETY: both pointers are valid; installing a handler is what we mean to do.
            let r = unsafe { libc::sigaction(sig, &action, prev) };
            if r != 0 {
                // Without our handler a trap would crash the process; nothing sensible can
                // continue.
                panic!(
                    "cannot install the wasmc trap handler for signal {sig}: {}",
                    io::Error::last_os_error()
                );
            }
        }
    });
}

/// Installed once, by the first store that registers code stopped by signal.
static INTERRUPT_INSTALL: Once = Once::new();

/// Installs the interruption signal's handler (once per process) and unblocks the signal in
/// the calling thread. Called when a store first registers code stopped by signal, so a
/// process that never loads such code never has its `SIGURG` disposition touched.
pub(crate) fn init_interrupt_signal() {
    // Only Linux artifacts are stopped by signal (`preempt.rs`).
    if cfg!(target_os = "linux") {
        INTERRUPT_INSTALL.call_once(install_interrupt_handler);
        // Failure leaves the signal as the host had it; nothing better can be done here.
        let _ = unblock_interrupt_signal();
    }
}

thread_local! {
    /// This thread has unblocked the interruption signal (a system call worth saving: a
    /// store registering its first artifact asks for it every time).
    static UNBLOCKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The action for [`preempt::SIGNAL`] installed before ours. Written once under `INSTALL`
/// before our handler can run, read-only afterwards.
static PREV_INTERRUPT: PrevActions<1> = PrevActions(std::cell::UnsafeCell::new(
    [const { MaybeUninit::uninit() }; 1],
));

/// Installs the handler of the interruption signal (`preempt.rs`), with `SA_RESTART` so a
/// stray one never makes a system call of the host fail with `EINTR`.
fn install_interrupt_handler() {
    preempt::init();
    // SAFETY: a zeroed sigaction is a valid initial value; we fill the fields we use.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
    action.sa_sigaction = interrupt_handler as *const () as usize;
    // SAFETY: sa_mask is a valid sigset_t to empty.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: written only here, inside call_once, before our handler exists.
    let prev = unsafe { (*PREV_INTERRUPT.0.get())[0].as_mut_ptr() };
    // SAFETY: both pointers are valid.
    if unsafe { libc::sigaction(preempt::SIGNAL, &action, prev) } != 0 {
        panic!(
            "cannot install the wasmc interrupt handler for signal {}: {}",
            preempt::SIGNAL,
            io::Error::last_os_error()
        );
    }
}

/// The handler of [`preempt::SIGNAL`]: stops the Wasm this thread runs if its store must
/// stop and the pc is inside one of the store's Wasm function bodies compiled to be stopped
/// this way; otherwise passes the signal to the handler installed before ours, if any.
extern "C" fn interrupt_handler(
    signum: libc::c_int,
    info: *mut libc::siginfo_t,
    uc: *mut libc::c_void,
) {
    // SAFETY: the kernel passed `uc`.
    if unsafe { stop_wasm(uc) } {
        return;
    }
    // SAFETY: PREV_INTERRUPT was fully written before the handler was installed.
    let prev = unsafe { (*PREV_INTERRUPT.0.get())[0].assume_init_ref() };
    // The default action of SIGURG is to ignore it.
    if prev.sa_sigaction != libc::SIG_DFL && prev.sa_sigaction != libc::SIG_IGN {
        // SAFETY: a handler function the host installed, with the kernel's arguments.
        unsafe { call_handler(prev, signum, info, uc) };
    }
}

/// Calls the handler function of `action` in the form it declared.
///
/// # Safety
///
/// `action.sa_sigaction` is a handler function (not `SIG_DFL` or `SIG_IGN`), and the
/// arguments are the kernel's.
unsafe fn call_handler(
    action: &libc::sigaction,
    signum: libc::c_int,
    info: *mut libc::siginfo_t,
    uc: *mut libc::c_void,
) {
    let f = action.sa_sigaction;
    if action.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the handler declared the three-argument form.
        let h: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(f) };
        h(signum, info, uc);
    } else {
        // SAFETY: the handler declared the one-argument form.
        let h: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(f) };
        h(signum);
    }
}

/// Sends this thread from inside a Wasm function body to its entry trampoline's landing pad
/// with an `Interrupt` trap, if its store must stop. Returns whether it did.
///
/// The order of the checks is what makes it safe. `running_tid` is this thread's id only
/// while this thread runs the store's Wasm or the loader's code around it (entry path,
/// trampolines, builtins), never while a host function runs, so the code list read next is
/// not being changed under us. A pc inside a function body means the innermost activation is
/// the one that entered that Wasm and its landing pad is in the store context; a body holds
/// no lock and no host resource, so leaving it at any instruction is like a trap at a load.
///
/// # Safety
///
/// `uc` is the `ucontext_t` the kernel passed to the handler.
unsafe fn stop_wasm(uc: *mut libc::c_void) -> bool {
    let act = current();
    let tid = preempt::known_tid();
    if act.is_null() || tid == 0 {
        return false;
    }
    // SAFETY: a non-null CURRENT is this thread's live activation.
    let act = unsafe { &*act };
    let ctx = act.ctx;
    // SAFETY: the store context is alive for the activation; the two words are aligned and
    // only ever written atomically.
    let (running, word) = unsafe {
        (
            AtomicU64::from_ptr(&raw mut (*ctx).running_tid).load(Ordering::Relaxed),
            AtomicU64::from_ptr(&raw mut (*ctx).interrupt).load(Ordering::Relaxed),
        )
    };
    if running != tid || word == 0 {
        return false;
    }
    // SAFETY: the kernel passed `uc`.
    let regs = unsafe { read_regs(uc) };
    // SAFETY: this thread runs the store's Wasm or the loader's code, neither of which
    // changes the code list (see above).
    let code = unsafe { &*act.code };
    if !code
        .iter()
        .any(|c| regs.pc >= c.text_start && regs.pc < c.signal_end)
    {
        return false;
    }
    // SAFETY: as above; the pc is in a body, so the innermost entry trampoline has stored its
    // landing pad. Only these words are read: others are written atomically by other threads.
    let (handler, entry_sp, entry_fp) = unsafe {
        (
            (&raw const (*ctx).last_entry_handler).read(),
            (&raw const (*ctx).last_entry_sp).read(),
            (&raw const (*ctx).last_entry_fp).read(),
        )
    };
    if handler == 0 {
        return false;
    }
    act.signal_trap.set(Some(SignalTrap {
        code: wasmc_abi::TrapCode::Interrupt,
        pc: regs.pc,
        fault_addr: 0,
    }));
    // SAFETY: between the interrupted sp and the entry trampoline's frame lies this thread's
    // live stack; `in_code` needs `act` to be the live current activation, which it is.
    let backtrace =
        unsafe { super::walk_frames(regs.pc, regs.fp, regs.sp, entry_fp, |pc| in_code(act, pc)) };
    act.backtrace.set(Some(backtrace));
    // SAFETY: the landing pad of this activation's entry trampoline.
    unsafe { resume_at(uc, handler, entry_sp, entry_fp) };
    true
}

/// The registers the handler reads and writes.
struct Regs {
    pc: usize,
    fp: usize,
    sp: usize,
}

/// The interrupted pc, frame pointer and stack pointer.
///
/// # Safety
///
/// `uc` must be the `ucontext_t` the kernel passed to the handler.
#[expect(
    clippy::cast_possible_truncation,
    reason = "registers are 64-bit and so is usize on every supported target"
)]
unsafe fn read_regs(uc: *mut libc::c_void) -> Regs {
    // SAFETY: per the function contract.
    unsafe {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        {
            let uc = &*uc.cast::<libc::ucontext_t>();
            Regs {
                pc: uc.uc_mcontext.gregs[libc::REG_RIP as usize] as usize,
                fp: uc.uc_mcontext.gregs[libc::REG_RBP as usize] as usize,
                sp: uc.uc_mcontext.gregs[libc::REG_RSP as usize] as usize,
            }
        }
        #[cfg(all(target_arch = "aarch64", target_os = "linux"))]
        {
            let uc = &*uc.cast::<libc::ucontext_t>();
            Regs {
                pc: uc.uc_mcontext.pc as usize,
                fp: uc.uc_mcontext.regs[29] as usize,
                sp: uc.uc_mcontext.sp as usize,
            }
        }
        #[cfg(all(target_arch = "x86_64", target_os = "macos"))]
        {
            let uc = &*uc.cast::<libc::ucontext_t>();
            Regs {
                pc: (*uc.uc_mcontext).__ss.__rip as usize,
                fp: (*uc.uc_mcontext).__ss.__rbp as usize,
                sp: (*uc.uc_mcontext).__ss.__rsp as usize,
            }
        }
        #[cfg(all(target_arch = "aarch64", target_os = "macos"))]
        {
            let uc = &*uc.cast::<libc::ucontext_t>();
            Regs {
                pc: (*uc.uc_mcontext).__ss.__pc as usize,
                fp: (*uc.uc_mcontext).__ss.__fp as usize,
                sp: (*uc.uc_mcontext).__ss.__sp as usize,
            }
        }
    }
}

/// Points the interrupted context at the landing pad `(pc, sp, fp)`.
///
/// # Safety
///
/// `uc` must be the `ucontext_t` the kernel passed to the handler, and the triple must be the
/// one saved by a live entry trampoline on this thread.
unsafe fn resume_at(uc: *mut libc::c_void, pc: usize, sp: usize, fp: usize) {
    // SAFETY: per the function contract.
    unsafe {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        {
            let uc = &mut *uc.cast::<libc::ucontext_t>();
            uc.uc_mcontext.gregs[libc::REG_RIP as usize] = pc as i64;
            uc.uc_mcontext.gregs[libc::REG_RSP as usize] = sp as i64;
            uc.uc_mcontext.gregs[libc::REG_RBP as usize] = fp as i64;
        }
        #[cfg(all(target_arch = "aarch64", target_os = "linux"))]
        {
            let uc = &mut *uc.cast::<libc::ucontext_t>();
            uc.uc_mcontext.pc = pc as u64;
            uc.uc_mcontext.sp = sp as u64;
            uc.uc_mcontext.regs[29] = fp as u64;
        }
        #[cfg(all(target_arch = "x86_64", target_os = "macos"))]
        {
            let uc = &mut *uc.cast::<libc::ucontext_t>();
            (*uc.uc_mcontext).__ss.__rip = pc as u64;
            (*uc.uc_mcontext).__ss.__rsp = sp as u64;
            (*uc.uc_mcontext).__ss.__rbp = fp as u64;
        }
        #[cfg(all(target_arch = "aarch64", target_os = "macos"))]
        {
            let uc = &mut *uc.cast::<libc::ucontext_t>();
            (*uc.uc_mcontext).__ss.__pc = pc as u64;
            (*uc.uc_mcontext).__ss.__sp = sp as u64;
            (*uc.uc_mcontext).__ss.__fp = fp as u64;
        }
    }
}

/// Finds the trap code of `pc` in the activation's code. Allocation- and lock-free.
///
/// # Safety
///
/// `act` must be the live current activation of this thread.
unsafe fn lookup(act: &Activation, pc: usize) -> Option<wasmc_abi::TrapCode> {
    // SAFETY: the code list belongs to the store that is running this activation; it is not
    // being modified (this thread is in Wasm code, not in the store's Rust code).
    let code = unsafe { &*act.code };
    for c in code {
        if pc >= c.text_start && pc < c.text_end {
            // SAFETY: the trap table is owned by an artifact the store keeps alive.
            let table = unsafe { std::slice::from_raw_parts(c.traps as *const u8, c.traps_len) };
            let off = u32::try_from(pc - c.text_start).ok()?;
            return wasmc_abi::metadata::lookup_trap(table, off);
        }
    }
    None
}

/// Whether `pc` lies in the code of one of the activation's artifacts. Allocation-free.
///
/// # Safety
///
/// `act` must be the live current activation of this thread.
unsafe fn in_code(act: &Activation, pc: usize) -> bool {
    // SAFETY: as in `lookup`.
    let code = unsafe { &*act.code };
    code.iter().any(|c| pc >= c.text_start && pc < c.text_end)
}

extern "C" fn handler(signum: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    let act = current();
    if !act.is_null() {
        // SAFETY: the kernel passed `uc`.
        let regs = unsafe { read_regs(uc) };
        // SAFETY: a non-null CURRENT is this thread's live activation.
        let act = unsafe { &*act };
        // SAFETY: as above.
        // SAFETY: the store context is alive for the activation.
        let ctx = unsafe { act.ctx.read() };
        // SAFETY: as above. A zero landing pad would mean no entry trampoline ran yet: never
        // resume there (chain instead, which crashes loudly).
        if let Some(code) = unsafe { lookup(act, regs.pc) }
            && ctx.last_entry_handler != 0
        {
            // SAFETY: `info` is the kernel's siginfo; si_addr is meaningful for the fault
            // signals we handle (and harmless to read otherwise).
            let fault_addr = unsafe { (*info).si_addr() } as usize;
            act.signal_trap.set(Some(SignalTrap {
                code,
                pc: regs.pc,
                fault_addr,
            }));
            // SAFETY: between the interrupted sp and the entry trampoline's frame lies this
            // thread's live stack: the Wasm frames the trap interrupted.
            // `in_code` only needs `act` to be the live current activation, which it is.
            let backtrace = unsafe {
                super::walk_frames(regs.pc, regs.fp, regs.sp, ctx.last_entry_fp, |pc| {
                    in_code(act, pc)
                })
            };
            act.backtrace.set(Some(backtrace));
            // SAFETY: the entry trampoline of this activation stored its landing pad in the
            // store context before calling Wasm.
            unsafe {
                resume_at(
                    uc,
                    ctx.last_entry_handler,
                    ctx.last_entry_sp,
                    ctx.last_entry_fp,
                )
            };
            return;
        }
    }
    // SAFETY: forwarding the kernel's arguments.
    unsafe { chain(signum, info, uc) };
}

/// Passes a fault that is not ours to whatever handled it before us.
///
/// # Safety
///
/// Called from the handler with the kernel's arguments.
unsafe fn chain(signum: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    let Some(i) = SIGNALS.iter().position(|s| *s == signum) else {
        return;
    };
    // SAFETY: PREV was fully written before the handler was installed.
    let prev = unsafe { (*PREV.0.get())[i].assume_init_ref() };
    let f = prev.sa_sigaction;
    // A positive si_code means the kernel raised the signal for a fault of the interrupted
    // instruction; zero or negative means someone sent it (`kill`, `raise`, `sigqueue`).
    // SAFETY: `info` is the kernel's siginfo.
    let sent = unsafe { (*info).si_code } <= 0;
    if f == libc::SIG_IGN && sent {
        // Ignored before us, so ignored now.
    } else if f == libc::SIG_DFL || f == libc::SIG_IGN {
        // Restore the default action. For a fault, returning runs the faulting instruction
        // again and the kernel applies the default (a crash with a core dump, as without us;
        // the kernel does the same for an ignored fault). A sent signal does not come back by
        // itself: raise it again so the default action happens now.
        // SAFETY: a zeroed sigaction with SIG_DFL is valid.
        let mut dfl: libc::sigaction = unsafe { std::mem::zeroed() };
        dfl.sa_sigaction = libc::SIG_DFL;
        // SAFETY: valid pointers.
        unsafe { libc::sigaction(signum, &dfl, std::ptr::null_mut()) };
        if sent {
            // SAFETY: raising a signal is async-signal-safe; SA_NODEFER leaves it unblocked.
            unsafe { libc::raise(signum) };
        }
    } else {
        // SAFETY: a handler function installed before ours, with the kernel's arguments.
        unsafe { call_handler(prev, signum, info, uc) };
    }
}

/// Size of our alternate signal stack (excluding its guard page).
const ALT_STACK_SIZE: usize = 64 << 10;

/// This thread's alternate signal stack, if we installed one.
struct AltStack {
    /// Guard page + stack; `None` when the thread already had a big enough one.
    map: Option<Mmap>,
    previous: libc::stack_t,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        if self.map.is_some() {
            // Put back what was there before (possibly "disabled") before unmapping ours.
            // SAFETY: `previous` came from sigaltstack.
            unsafe { libc::sigaltstack(&self.previous, std::ptr::null_mut()) };
        }
    }
}

thread_local! {
    static ALT_STACK: RefCell<Option<AltStack>> = const { RefCell::new(None) };
}

/// Makes sure this thread has an alternate signal stack big enough for our handler (and
/// what it chains to). Called by the call path before every entry into Wasm.
/// Unblocks [`preempt::SIGNAL`] in this thread (once, when it first runs Wasm): a host that
/// blocks signals in its worker threads (to take them with `sigwait` elsewhere) would
/// otherwise keep the signal pending forever and its loops could not be stopped.
fn unblock_interrupt_signal() -> io::Result<()> {
    if UNBLOCKED.with(std::cell::Cell::get) {
        return Ok(());
    }
    // SAFETY: a zeroed sigset_t is valid to fill; the set holds one valid signal.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, preempt::SIGNAL);
        let r = libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
    }
    UNBLOCKED.with(|u| u.set(true));
    Ok(())
}

pub(crate) fn init_thread() -> io::Result<()> {
    ALT_STACK.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_some() {
            return Ok(());
        }
        if INTERRUPT_INSTALL.is_completed() {
            unblock_interrupt_signal()?;
        }
        // SAFETY: a zeroed stack_t is valid to receive the current settings.
        let mut previous: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: querying only.
        if unsafe { libc::sigaltstack(std::ptr::null(), &mut previous) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if previous.ss_flags & libc::SS_DISABLE == 0 && previous.ss_size >= ALT_STACK_SIZE {
            *slot = Some(AltStack {
                map: None,
                previous,
            });
            return Ok(());
        }
        let guard = page_size();
        let map = Mmap::anon_rw(guard + ALT_STACK_SIZE)?;
        // A guard page below the stack turns a handler overflow into a clean crash.
        map.protect(0..guard, Prot::None)?;
        let stack = libc::stack_t {
            // SAFETY: `guard` is inside the mapping.
            ss_sp: unsafe { map.as_ptr().add(guard) }.cast(),
            ss_flags: 0,
            ss_size: map.len() - guard,
        };
        // SAFETY: the stack is mapped read-write and lives until the thread-local drops,
        // which restores the previous stack first.
        if unsafe { libc::sigaltstack(&stack, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        *slot = Some(AltStack {
            map: Some(map),
            previous,
        });
        Ok(())
    })
}
