//! One artifact, many threads: an `Artifact` is `Send + Sync`, so it is loaded once and each
//! thread instantiates it in its own `Store` and calls it concurrently with the others.
//!
//! ```text
//! cargo run --release --example concurrent
//! ```

use std::thread;

use wasmc_loader::{Artifact, Linker, Store};

const THREADS: i32 = 4;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wasm = wat::parse_str(include_str!("concurrent.wat"))?;
    let bytes = wasmc_compiler::compile(&wasm)?;
    // SAFETY: the bytes come straight from the wasmc compiler.
    #[allow(unsafe_code, reason = "loading the artifact compiled just above")]
    let artifact = unsafe { Artifact::from_bytes(&bytes) }?;

    let results = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let artifact = &artifact;
                s.spawn(move || -> Result<(i32, i32), wasmc_loader::Error> {
                    // Each thread has its own store and instance; the code is shared.
                    let mut store = Store::new(());
                    let instance = Linker::new().instantiate(&mut store, artifact)?;
                    let fib = instance.get_typed_func::<i32, i32>(&store, "fib")?;
                    let n = 20 + t;
                    Ok((n, fib.call(&mut store, n)?))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker thread panicked"))
            .collect::<Result<Vec<_>, _>>()
    })?;
    for (t, (n, f)) in results.iter().enumerate() {
        println!("thread {t}: fib({n}) = {f}");
    }
    println!("{THREADS} threads shared one artifact");
    Ok(())
}
