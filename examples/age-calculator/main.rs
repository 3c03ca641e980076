//! The age calculator (wazero's "import a Go function" example, in Rust): a module imports
//! `env.log_i32` and `env.current_year` from the host and exports `get_age` and `log_age`.
//!
//! ```text
//! CURRENT_YEAR=2022 cargo run --release --example age-calculator -- 2000
//! println >> 22
//! log_i32 >> 22
//! ```
//!
//! Without `CURRENT_YEAR` the real current year (UTC) is used.

use std::time::{SystemTime, UNIX_EPOCH};

use wasmc_loader::{Artifact, Caller, Error, Linker, Store};

/// The host state every host function receives through its `Caller`: here, the year.
struct Host {
    current_year: i32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(arg) = std::env::args().nth(1) else {
        eprintln!("usage: age-calculator <year born>");
        std::process::exit(2);
    };
    let year_born: i32 = arg
        .parse()
        .map_err(|e| format!("the year born must be an integer, not {arg:?}: {e}"))?;
    let current_year = match std::env::var("CURRENT_YEAR") {
        Ok(y) => y
            .parse()
            .map_err(|e| format!("CURRENT_YEAR must be an integer, not {y:?}: {e}"))?,
        Err(_) => year_now()?,
    };

    // Compile the module ahead of time and load the artifact (in memory here).
    let wasm = wat::parse_str(include_str!("age-calculator.wat"))?;
    let bytes = wasmc_compiler::compile(&wasm)?;
    // SAFETY: the bytes come straight from the wasmc compiler.
    #[allow(unsafe_code, reason = "loading the artifact compiled just above")]
    let artifact = unsafe { Artifact::from_bytes(&bytes) }?;

    // Host functions under (module, name), with the store's data as their context.
    let mut linker = Linker::<Host>::new();
    linker.func_wrap("env", "log_i32", |_: Caller<'_, Host>, v: i32| {
        println!("log_i32 >> {v}");
        Ok(())
    })?;
    linker.func_wrap(
        "env",
        "current_year",
        |caller: Caller<'_, Host>| -> Result<i32, Error> { Ok(caller.data().current_year) },
    )?;

    let mut store = Store::new(Host { current_year });
    let instance = linker.instantiate(&mut store, &artifact)?;

    // First call `get_age` and print the result from the host...
    let get_age = instance.get_typed_func::<i32, i32>(&store, "get_age")?;
    println!("println >> {}", get_age.call(&mut store, year_born)?);
    // ...then let the module print it through the imported `log_i32`.
    let log_age = instance.get_typed_func::<i32, ()>(&store, "log_age")?;
    log_age.call(&mut store, year_born)?;
    Ok(())
}

/// The current year (UTC), from the system clock.
fn year_now() -> Result<i32, Box<dyn std::error::Error>> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let days = i64::try_from(secs / 86_400)?;
    Ok(civil_year(days))
}

/// The proleptic Gregorian year of `days` since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, year part only).
fn civil_year(days: i64) -> i32 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    i32::try_from(year).unwrap_or(i32::MAX)
}
