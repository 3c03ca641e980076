//! A host with its Wasm plugin statically linked in: `build.rs` compiled `plugin.wat` into a
//! linkable artifact that the system linker put into this executable, and generated the
//! typed bindings included below. At run time nothing is compiled, read, mapped or copied:
//! `plugin::artifact()` checks the linked image and runs the code where the linker put it.
//!
//! ```text
//! cargo run --release -p wasmc-example-static-host
//! cargo run --release -p wasmc-example-static-host -- --timing   # load-time comparison
//! ```

use std::time::{Duration, Instant};

use wasmc_loader::{Artifact, Caller, Error, ExternRef, Linker, Store};

include!(concat!(env!("OUT_DIR"), "/plugin.rs"));
include!(concat!(env!("OUT_DIR"), "/other_plugin.rs"));

fn main() -> Result<(), Error> {
    let artifact = plugin::artifact()?;

    let mut linker = Linker::<Vec<i32>>::new();
    linker.func_wrap("host", "log", |mut caller: Caller<'_, Vec<i32>>, n: i32| {
        caller.data_mut().push(n);
        Ok(())
    })?;
    let mut store = Store::new(Vec::new());
    let instance = linker.instantiate(&mut store, &artifact)?;
    let exports = plugin::Exports::new(&store, &instance)?;

    println!("add(2, 40) = {}", exports.add(&mut store, 2, 40)?);
    println!("hypot(3, 4) = {}", exports.hypot(&mut store, 3.0, 4.0)?);
    let sum = exports.count_to(&mut store, 5)?;
    println!("count_to(5) = {sum}, host saw {:?}", store.data());
    let (r, was_null) = exports.echo(&mut store, ExternRef::new(7))?;
    println!("echo(7) = {:?}, null: {was_null}", r.map(|r| r.value()));
    // A trap: the signal handler must find the faulting pc in the linked code.
    match exports.div(&mut store, 1, 0) {
        Err(e) => println!("div(1, 0): {e}"),
        Ok(v) => println!("div(1, 0) = {v} (expected a trap)"),
    }
    println!("code in the executable's text: {}", code_location());

    // A second linked module, in the same store: same export name, other code.
    let other = linker.instantiate(&mut store, &other_plugin::artifact()?)?;
    let other = other_plugin::Exports::new(&store, &other)?;
    println!("other_plugin add(6, 7) = {}", other.add(&mut store, 6, 7)?);

    if std::env::args().any(|a| a == "--timing") {
        timing()?;
    }
    Ok(())
}

/// Where the plugin's code lives, from `/proc/self/maps` (Linux): `yes` when the whole code
/// range lies in one read+execute mapping of this executable's own file.
fn code_location() -> String {
    let code = plugin::code_range();
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return "unknown (no /proc/self/maps)".into();
    };
    let Ok(exe) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return "unknown (no executable path)".into();
    };
    for line in maps.lines() {
        // start-end perms offset dev inode path
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let path = fields.nth(3).unwrap_or("");
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        if (start..end).contains(&code.start) {
            let own_file = std::path::Path::new(path) == exe;
            let fits = code.end <= end;
            return if own_file && fits && perms.starts_with("r-x") {
                "yes".into()
            } else {
                format!("no ({perms} {path})")
            };
        }
    }
    "no (not mapped)".into()
}

/// Load time of the same module three ways: linked (`from_linked`), embedded bytes
/// (`from_static`, copies the code into fresh pages) and a file (`from_file`, maps it).
fn timing() -> Result<(), Error> {
    /// The same linkable object as bytes, only for this comparison.
    static BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/plugin.wasmc.o"));
    const RUNS: u32 = 2000;
    let path = concat!(env!("OUT_DIR"), "/plugin.wasmc.o");
    let time = |load: &dyn Fn() -> Result<Artifact, Error>| -> Result<Duration, Error> {
        load()?; // warm up (type registry, page cache)
        let start = Instant::now();
        for _ in 0..RUNS {
            drop(load()?);
        }
        Ok(start.elapsed() / RUNS)
    };
    let linked = time(&plugin::artifact)?;
    let unchecked = time(&plugin::artifact_unchecked)?;
    // SAFETY: the bytes and the file are the artifact our own build script compiled.
    #[allow(unsafe_code, reason = "loading the artifact our build script compiled")]
    let (embedded, file) = unsafe {
        (
            time(&|| Artifact::from_static(BYTES))?,
            time(&|| Artifact::from_file(path))?,
        )
    };
    println!(
        "load time per call ({} bytes of code, {} bytes of object): from_linked {:.1} us \
         ({:.1} us unchecked), from_static {:.1} us, from_file {:.1} us",
        plugin::code_range().len(),
        BYTES.len(),
        linked.as_secs_f64() * 1e6,
        unchecked.as_secs_f64() * 1e6,
        embedded.as_secs_f64() * 1e6,
        file.as_secs_f64() * 1e6
    );
    Ok(())
}
