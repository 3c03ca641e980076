//! WASI preview1 (`wasi_snapshot_preview1`) for the loader: a [`WasiCtx`] built with
//! [`WasiCtxBuilder`], and [`add_to_linker`], which defines every preview1 function in a
//! [`Linker`] in one call.
//!
//! ```no_run
//! use wasmc_loader::{Linker, Store};
//! use wasmc_loader::wasi::{self, OutputBuffer, WasiCtx, WasiCtxBuilder};
//!
//! let out = OutputBuffer::new();
//! let ctx: WasiCtx = WasiCtxBuilder::new()
//!     .arg("prog")
//!     .env("HOME", "/")
//!     .stdout(out.clone())
//!     .preopened_dir("/tmp/sandbox", "/data", false)
//!     .build()
//!     .unwrap();
//! let mut store = Store::new(ctx);
//! let mut linker = Linker::new();
//! wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx);
//! // instantiate, call `_start`, then read `out.contents()`.
//! ```
//!
//! The functions live by family, as wazero splits them: `args.rs`/`environ.rs`, `clock.rs`,
//! `random.rs`, `fd.rs` (descriptors), `path.rs` (names inside a directory), `poll.rs`,
//! `proc.rs` and `sock.rs`; `errno.rs` holds the spec's error numbers and `guest.rs` reads
//! and writes the guest's memory.
//!
//! # The sandbox
//!
//! The guest reaches files only through descriptors: its stdio and the directories preopened
//! by the host. Every name is resolved by `cap-std` relative to a [`cap_std::fs::Dir`], which
//! refuses `..` past that directory, absolute paths and symlinks (relative or absolute, at
//! any component) that lead outside it, with the kernel's help where it has it
//! (`openat2(RESOLVE_BENEATH)` on Linux) and by resolving component by component elsewhere.
//! There is no hand-written path check here. A preopen made read-only refuses every
//! operation that would change anything beneath it (opening for writing, creating,
//! truncating, removing, renaming, linking, setting times or sizes) with `EPERM`, as
//! wasmtime does for a directory without mutate permission. See `docs/WASI.md`.
//!
//! # `wasi_unstable`
//!
//! Legacy (preview0) modules import from `wasi_unstable`. Renaming that module to
//! `wasi_snapshot_preview1` is not enough: four functions have another ABI there
//! (`fd_seek`'s `whence` numbering, the `filestat` layout of `fd_filestat_get` and
//! `path_filestat_get`, and the `subscription` layout of `poll_oneoff`). So
//! [`add_to_linker`] also defines `wasi_unstable`, with those four in their preview0 form
//! and every other function shared.

mod args;
mod clock;
mod environ;
mod errno;
mod fd;
mod guest;
mod path;
mod poll;
mod proc;
mod random;
mod sock;

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wasmc_abi::{FuncType, ValType};

use crate::error::Error;
use crate::func::Caller;
use crate::instance::Extern;
use crate::linker::Linker;
use crate::store::Store;
use crate::val::Val;

pub use clock::{HostClocks, WasiClock, WasiClocks};
pub use errno::Errno;
pub use random::{DeterministicRandom, HostRandom, WasiRandom};

use fd::{Desc, FdTable};

/// The preview1 module name.
pub const MODULE: &str = "wasi_snapshot_preview1";
/// The legacy (preview0) module name; see the module documentation.
pub const MODULE_UNSTABLE: &str = "wasi_unstable";

/// The state of one WASI program: arguments, environment, descriptors, clocks, randomness.
/// Keep it in the store's data and give [`add_to_linker`] a way to reach it.
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: FdTable,
    pub(crate) clocks: Box<dyn WasiClocks>,
    pub(crate) random: Box<dyn WasiRandom>,
}

impl std::fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiCtx")
            .field("args", &self.args.len())
            .field("env", &self.env.len())
            .field("fds", &self.fds.len())
            .finish_non_exhaustive()
    }
}

/// An in-memory output stream for a guest's stdout or stderr: clone it, hand one clone to
/// the builder and read the other after the run.
#[derive(Debug, Clone, Default)]
pub struct OutputBuffer(Arc<Mutex<Vec<u8>>>);

impl OutputBuffer {
    /// An empty buffer.
    pub fn new() -> OutputBuffer {
        OutputBuffer::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub(crate) fn append(&self, bytes: &[u8]) {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(bytes);
        }
    }
}

/// Where a guest's stdin comes from.
#[derive(Debug, Clone, Default)]
pub(crate) enum InputSpec {
    /// Nothing: reads return end of file.
    #[default]
    Empty,
    /// The host process's stdin.
    Inherit,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
}

/// Where a guest's stdout or stderr goes.
#[derive(Debug, Clone, Default)]
pub(crate) enum OutputSpec {
    /// Nowhere: writes succeed and are dropped.
    #[default]
    Sink,
    /// The host process's stdout or stderr (same stream as the guest's).
    Inherit,
    /// An [`OutputBuffer`].
    Buffer(OutputBuffer),
}

/// Builds a [`WasiCtx`]. Setters never fail; [`WasiCtxBuilder::build`] opens the preopened
/// directories and reports what could not be opened.
///
/// Defaults: no arguments, no environment, empty stdin, stdout and stderr discarded, no
/// preopens, the host's clocks and the OS random source.
#[derive(Default)]
pub struct WasiCtxBuilder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdin: InputSpec,
    stdout: OutputSpec,
    stderr: OutputSpec,
    preopens: Vec<(PathBuf, String, bool)>,
    clocks: Option<Box<dyn WasiClocks>>,
    random: Option<Box<dyn WasiRandom>>,
}

impl std::fmt::Debug for WasiCtxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiCtxBuilder")
            .field("args", &self.args.len())
            .field("env", &self.env.len())
            .field("preopens", &self.preopens)
            .finish_non_exhaustive()
    }
}

impl WasiCtxBuilder {
    /// A builder with the defaults above.
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder::default()
    }

    /// Appends one argument (the first is the program's `argv[0]`).
    pub fn arg(&mut self, arg: impl AsRef<[u8]>) -> &mut Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// Appends arguments.
    pub fn args<A: AsRef<[u8]>>(&mut self, args: impl IntoIterator<Item = A>) -> &mut Self {
        for a in args {
            self.arg(a);
        }
        self
    }

    /// Adds the environment variable `key=value`.
    pub fn env(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let mut kv = key.as_ref().to_vec();
        kv.push(b'=');
        kv.extend_from_slice(value.as_ref());
        self.env.push(kv);
        self
    }

    /// Adds every variable of the host process's environment.
    pub fn inherit_env(&mut self) -> &mut Self {
        use std::os::unix::ffi::OsStrExt;
        for (k, v) in std::env::vars_os() {
            self.env(k.as_bytes(), v.as_bytes());
        }
        self
    }

    /// The guest reads the host process's stdin.
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = InputSpec::Inherit;
        self
    }

    /// The guest reads these bytes from stdin, then end of file.
    pub fn stdin_bytes(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = InputSpec::Bytes(bytes.into());
        self
    }

    /// The guest's stdout goes to the host process's stdout.
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = OutputSpec::Inherit;
        self
    }

    /// The guest's stdout is collected in `buffer`.
    pub fn stdout(&mut self, buffer: OutputBuffer) -> &mut Self {
        self.stdout = OutputSpec::Buffer(buffer);
        self
    }

    /// The guest's stderr goes to the host process's stderr.
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = OutputSpec::Inherit;
        self
    }

    /// The guest's stderr is collected in `buffer`.
    pub fn stderr(&mut self, buffer: OutputBuffer) -> &mut Self {
        self.stderr = OutputSpec::Buffer(buffer);
        self
    }

    /// Stdin, stdout and stderr are the host process's.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Gives the guest the host directory `host_path` under the name `guest_path` (what
    /// wasi-libc matches paths against, e.g. `/data` or `.`). With `read_only`, nothing
    /// beneath it can be changed. Preopens get descriptors 3, 4, ... in the order added.
    pub fn preopened_dir(
        &mut self,
        host_path: impl Into<PathBuf>,
        guest_path: impl Into<String>,
        read_only: bool,
    ) -> &mut Self {
        self.preopens
            .push((host_path.into(), guest_path.into(), read_only));
        self
    }

    /// Replaces the clocks (for deterministic tests).
    pub fn clocks(&mut self, clocks: impl WasiClocks) -> &mut Self {
        self.clocks = Some(Box::new(clocks));
        self
    }

    /// Replaces the random source (for deterministic tests).
    pub fn random(&mut self, random: impl WasiRandom) -> &mut Self {
        self.random = Some(Box::new(random));
        self
    }

    /// Opens the preopened directories and returns the context. The builder is left empty.
    ///
    /// # Errors
    ///
    /// A host error naming the directory if one cannot be opened, or naming the argument or
    /// variable that contains a NUL byte (the guest receives C strings).
    pub fn build(&mut self) -> Result<WasiCtx, Error> {
        let b = std::mem::take(self);
        for (what, list) in [("argument", &b.args), ("environment variable", &b.env)] {
            if let Some(bad) = list.iter().find(|a| a.contains(&0)) {
                return Err(Error::host(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "WASI {what} {:?} contains a NUL byte",
                        String::from_utf8_lossy(bad)
                    ),
                )));
            }
        }
        let mut fds = FdTable::default();
        fds.insert_at(0, Desc::Stdin(fd::Input::from_spec(b.stdin)));
        fds.insert_at(1, Desc::Out(fd::Output::from_spec(b.stdout, false)));
        fds.insert_at(2, Desc::Out(fd::Output::from_spec(b.stderr, true)));
        for (i, (host, guest, read_only)) in b.preopens.into_iter().enumerate() {
            let dir = cap_std::fs::Dir::open_ambient_dir(&host, cap_std::ambient_authority())
                .map_err(|e| {
                    Error::host(io::Error::new(
                        e.kind(),
                        format!("cannot open directory {} to preopen: {e}", host.display()),
                    ))
                })?;
            let fd = u32::try_from(3 + i)
                .map_err(|_| Error::host(io::Error::other("too many preopened directories")))?;
            fds.insert_at(fd, Desc::Dir(fd::DirDesc::preopen(dir, guest, !read_only)));
        }
        Ok(WasiCtx {
            args: b.args,
            env: b.env,
            fds,
            clocks: b.clocks.unwrap_or_else(|| Box::new(HostClocks::new())),
            random: b.random.unwrap_or_else(|| Box::new(HostRandom)),
        })
    }
}

/// Flushes the host's stdout and stderr (the guest's writes to inherited streams are
/// flushed as they happen; this is for hosts that print around the guest).
pub fn flush_host_stdio() {
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
}

/// What a WASI function body sees: the guest's memory and the context, borrowed together.
pub(crate) struct Env<'a> {
    pub(crate) mem: &'a mut [u8],
    pub(crate) ctx: &'a mut WasiCtx,
}

/// Why a WASI function body did not succeed: an errno for the guest, or an error that ends
/// the call (`proc_exit`).
pub(crate) enum Fail {
    Errno(Errno),
    Fatal(Error),
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Fail {
        Fail::Errno(e)
    }
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Errno(Errno::from(e))
    }
}

/// The result of a WASI function body.
pub(crate) type WasiResult = Result<(), Fail>;

/// A WASI function body: the environment and the raw arguments.
type Body = fn(&mut Env<'_>, &Args<'_>) -> WasiResult;

/// The arguments of a call, read by position. Their types were checked against the
/// function's signature when the module was linked.
pub(crate) struct Args<'a>(&'a [Val]);

impl Args<'_> {
    /// Argument `i` as the `u32` it is in the ABI (pointers, lengths, fds, flags).
    pub(crate) fn u32(&self, i: usize) -> u32 {
        match self.0.get(i) {
            Some(Val::I32(v)) => v.cast_unsigned(),
            other => unreachable!("WASI argument {i} should be an i32, found {other:?}"),
        }
    }

    /// Argument `i` as a `u64` (offsets, sizes, timestamps, rights).
    pub(crate) fn u64(&self, i: usize) -> u64 {
        match self.0.get(i) {
            Some(Val::I64(v)) => v.cast_unsigned(),
            other => unreachable!("WASI argument {i} should be an i64, found {other:?}"),
        }
    }
}

/// One preview1 function: name, parameter types (`i` = i32, `I` = i64), whether it returns
/// an errno, and its body.
struct Def {
    name: &'static str,
    params: &'static str,
    returns_errno: bool,
    body: Body,
}

const fn def(name: &'static str, params: &'static str, body: Body) -> Def {
    Def {
        name,
        params,
        returns_errno: true,
        body,
    }
}

/// Every preview1 function (keep in sync with the witx: 46 functions).
const PREVIEW1: &[Def] = &[
    def("args_get", "ii", args::args_get),
    def("args_sizes_get", "ii", args::args_sizes_get),
    def("environ_get", "ii", environ::environ_get),
    def("environ_sizes_get", "ii", environ::environ_sizes_get),
    def("clock_res_get", "ii", clock::clock_res_get),
    def("clock_time_get", "iIi", clock::clock_time_get),
    def("fd_advise", "iIIi", fd::fd_advise),
    def("fd_allocate", "iII", fd::fd_allocate),
    def("fd_close", "i", fd::fd_close),
    def("fd_datasync", "i", fd::fd_datasync),
    def("fd_fdstat_get", "ii", fd::fd_fdstat_get),
    def("fd_fdstat_set_flags", "ii", fd::fd_fdstat_set_flags),
    def("fd_fdstat_set_rights", "iII", fd::fd_fdstat_set_rights),
    def("fd_filestat_get", "ii", fd::fd_filestat_get),
    def("fd_filestat_set_size", "iI", fd::fd_filestat_set_size),
    def("fd_filestat_set_times", "iIIi", fd::fd_filestat_set_times),
    def("fd_pread", "iiiIi", fd::fd_pread),
    def("fd_prestat_get", "ii", fd::fd_prestat_get),
    def("fd_prestat_dir_name", "iii", fd::fd_prestat_dir_name),
    def("fd_pwrite", "iiiIi", fd::fd_pwrite),
    def("fd_read", "iiii", fd::fd_read),
    def("fd_readdir", "iiiIi", fd::fd_readdir),
    def("fd_renumber", "ii", fd::fd_renumber),
    def("fd_seek", "iIii", fd::fd_seek),
    def("fd_sync", "i", fd::fd_sync),
    def("fd_tell", "ii", fd::fd_tell),
    def("fd_write", "iiii", fd::fd_write),
    def("path_create_directory", "iii", path::path_create_directory),
    def("path_filestat_get", "iiiii", path::path_filestat_get),
    def(
        "path_filestat_set_times",
        "iiiiIIi",
        path::path_filestat_set_times,
    ),
    def("path_link", "iiiiiii", path::path_link),
    def("path_open", "iiiiiIIii", path::path_open),
    def("path_readlink", "iiiiii", path::path_readlink),
    def("path_remove_directory", "iii", path::path_remove_directory),
    def("path_rename", "iiiiii", path::path_rename),
    def("path_symlink", "iiiii", path::path_symlink),
    def("path_unlink_file", "iii", path::path_unlink_file),
    def("poll_oneoff", "iiii", poll::poll_oneoff),
    Def {
        name: "proc_exit",
        params: "i",
        returns_errno: false,
        body: proc::proc_exit,
    },
    def("proc_raise", "i", proc::proc_raise),
    def("sched_yield", "", proc::sched_yield),
    def("random_get", "ii", random::random_get),
    def("sock_accept", "iii", sock::sock_accept),
    def("sock_recv", "iiiiii", sock::sock_recv),
    def("sock_send", "iiiii", sock::sock_send),
    def("sock_shutdown", "ii", sock::sock_shutdown),
];

/// The preview0 forms of the functions whose ABI changed in preview1 (same parameter
/// types, other memory layouts or constants).
const PREVIEW0_OVERRIDES: &[Def] = &[
    def("fd_seek", "iIii", fd::fd_seek_preview0),
    def("fd_filestat_get", "ii", fd::fd_filestat_get_preview0),
    def(
        "path_filestat_get",
        "iiiii",
        path::path_filestat_get_preview0,
    ),
    def("poll_oneoff", "iiii", poll::poll_oneoff_preview0),
];

fn func_type(d: &Def) -> FuncType {
    let params = d.params.bytes().map(|c| {
        if c == b'I' {
            ValType::I64
        } else {
            ValType::I32
        }
    });
    let results: &[ValType] = if d.returns_errno {
        &[ValType::I32]
    } else {
        &[]
    };
    FuncType::new(params.collect::<Vec<_>>(), results.to_vec())
}

/// Defines every `wasi_snapshot_preview1` function (and the `wasi_unstable` module, see the
/// module documentation) in `linker`. `get` finds the [`WasiCtx`] in the store's data.
///
/// A function called from an instance that exports no `memory` sees an empty memory: every
/// pointer it is given is then out of bounds and it returns `EFAULT`.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + 'static,
) -> &mut Linker<T> {
    let get: Arc<dyn Fn(&mut T) -> &mut WasiCtx + Send + Sync> = Arc::new(get);
    for (module, d) in PREVIEW1
        .iter()
        .map(|d| (MODULE, d))
        .chain(PREVIEW1.iter().map(|d| {
            let d = PREVIEW0_OVERRIDES
                .iter()
                .find(|o| o.name == d.name)
                .unwrap_or(d);
            (MODULE_UNSTABLE, d)
        }))
    {
        let get = get.clone();
        let body = d.body;
        let returns_errno = d.returns_errno;
        let name = d.name;
        let defined = linker.func_new(
            module,
            name,
            func_type(d),
            move |mut caller: Caller<'_, T>, args: &[Val], results: &mut [Val]| {
                let memory = match caller.get_export("memory") {
                    Some(Extern::Memory(m)) => Some(m),
                    _ => None,
                };
                let mut env = split(caller.store(), memory, &*get);
                let errno = match body(&mut env, &Args(args)) {
                    Ok(()) => Errno::SUCCESS,
                    Err(Fail::Errno(e)) => e,
                    Err(Fail::Fatal(e)) => return Err(e),
                };
                if returns_errno && let Some(r) = results.first_mut() {
                    *r = Val::I32(i32::from(errno.0));
                }
                Ok(())
            },
        );
        // `func_new` cannot fail today; a future definition-time check would be a bug in the
        // table above, which the tests would catch.
        debug_assert!(defined.is_ok(), "defining {module}::{name}");
    }
    linker
}

/// Borrows the guest's memory and the WASI context at the same time (they are disjoint
/// parts of the store; the public accessors each borrow the whole store).
fn split<'a, T>(
    store: &'a mut Store<T>,
    memory: Option<crate::memory::Memory>,
    get: &(dyn Fn(&mut T) -> &mut WasiCtx + Send + Sync),
) -> Env<'a> {
    let Store { opaque, data, .. } = store;
    let mem: &'a mut [u8] = match memory {
        Some(m) if m.store_id == opaque.id => match opaque.memories.get_mut(m.index) {
            Some(md) => md.map.as_mut_slice(),
            None => &mut [],
        },
        _ => &mut [],
    };
    Env {
        mem,
        ctx: get(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preview1_function_is_defined_once() {
        assert_eq!(PREVIEW1.len(), 46);
        let mut names: Vec<_> = PREVIEW1.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 46);
        for o in PREVIEW0_OVERRIDES {
            let p1 = PREVIEW1.iter().find(|d| d.name == o.name).unwrap();
            assert_eq!(func_type(p1), func_type(o), "{}", o.name);
        }
    }

    #[test]
    fn builder_refuses_nul_in_arguments() {
        let err = WasiCtxBuilder::new().arg("a\0b").build().unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
        let err = WasiCtxBuilder::new()
            .preopened_dir("/nonexistent/wasmc-wasi-test", "/x", false)
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/wasmc-wasi-test"),
            "{err}"
        );
    }
}
