//! Stopping a guest stuck in an infinite loop: first with a deadline on the store, then with
//! an interrupt handle fired from another thread. Each prints how long the guest ran; the
//! store keeps working afterwards.
//!
//! ```text
//! cargo run --release --example deadline
//! ```

use std::time::{Duration, Instant};

use wasmc_loader::{Artifact, Linker, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wasm = wat::parse_str(include_str!("deadline.wat"))?;
    let bytes = wasmc_compiler::compile(&wasm)?;
    // SAFETY: the bytes come straight from the wasmc compiler.
    #[allow(unsafe_code, reason = "loading the artifact compiled just above")]
    let artifact = unsafe { Artifact::from_bytes(&bytes) }?;
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &artifact)?;
    let spin = instance.get_typed_func::<(), ()>(&store, "spin")?;
    let count = instance.get_typed_func::<i32, i32>(&store, "count")?;

    // 1. A deadline travels with the store.
    let limit = Duration::from_millis(100);
    store.set_deadline(limit)?;
    let start = Instant::now();
    let err = spin
        .call(&mut store, ())
        .expect_err("spin never returns by itself");
    let took = start.elapsed();
    assert!(err.is_interrupt(), "unexpected error: {err}");
    println!(
        "deadline of {} ms: stopped after {:.1} ms ({err})",
        limit.as_millis(),
        took.as_secs_f64() * 1e3
    );

    // 2. An interrupt from another thread.
    let handle = store.interrupt_handle();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let fired = Instant::now();
        handle.interrupt();
        fired
    });
    let err = spin
        .call(&mut store, ())
        .expect_err("spin never returns by itself");
    let stopped = Instant::now();
    let fired = interrupter.join().expect("the interrupter thread panicked");
    assert!(err.is_interrupt(), "unexpected error: {err}");
    println!(
        "interrupt from another thread: stopped {:.3} ms after it fired ({err})",
        stopped.duration_since(fired).as_secs_f64() * 1e3
    );

    // 3. The store goes on.
    store.clear_deadline();
    println!(
        "still usable: count(1000) = {}",
        count.call(&mut store, 1000)?
    );
    Ok(())
}
