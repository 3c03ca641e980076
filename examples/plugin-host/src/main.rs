//! A plugin host: the plugin was compiled ahead of time by `build.rs` and is embedded in this
//! binary, so nothing is compiled or read from disk at run time. The plugin is a reactor:
//! `Linker::instantiate` runs its `_initialize` once, then the host calls its exports in a
//! loop on the same live instance.
//!
//! ```text
//! cargo run --release -p wasmc-example-plugin-host
//! ```

use wasmc_loader::{Artifact, Caller, Error, Extern, Linker, Store};

/// The artifact `build.rs` wrote.
static PLUGIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/plugin.wasmc.o"));

fn main() -> Result<(), Error> {
    // SAFETY: the bytes were produced by our own build script with the wasmc compiler.
    #[allow(unsafe_code, reason = "loading the artifact our build script compiled")]
    let artifact = unsafe { Artifact::from_static(PLUGIN) }?;

    let mut linker = Linker::<Vec<String>>::new();
    // `host.log(ptr, len)`: read a string from the calling plugin's memory, bounds-checked.
    linker.func_wrap(
        "host",
        "log",
        |mut caller: Caller<'_, Vec<String>>, ptr: i32, len: i32| {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .ok_or_else(|| Error::host("the plugin exports no memory"))?;
            let mut buf = vec![0u8; usize::try_from(len).map_err(Error::host)?];
            let offset = usize::try_from(ptr).map_err(Error::host)?;
            memory.read(&caller, offset, &mut buf)?;
            let text = String::from_utf8(buf).map_err(Error::host)?;
            println!("plugin says: {text}");
            caller.data_mut().push(text);
            Ok(())
        },
    )?;

    let mut store = Store::new(Vec::new());
    let instance = linker.instantiate(&mut store, &artifact)?;
    let process = instance.get_typed_func::<i32, i32>(&store, "process")?;
    for x in 1..=5 {
        println!("process({x}) = {}", process.call(&mut store, x)?);
    }
    let calls = instance.get_typed_func::<(), i32>(&store, "calls")?;
    println!("calls = {}", calls.call(&mut store, ())?);
    println!("log lines kept by the host: {}", store.data().len());
    Ok(())
}
