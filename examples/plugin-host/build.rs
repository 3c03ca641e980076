//! Precompiles `plugin.wat` into `OUT_DIR/plugin.wasmc.o` with the compiler's build API;
//! `src/main.rs` embeds the result with `include_bytes!`.

use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=plugin.wat");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let artifact = wasmc_compiler::build::compile_file("plugin.wat".as_ref(), &out_dir)
        .unwrap_or_else(|e| panic!("precompiling the plugin: {e}"));
    assert_eq!(artifact, out_dir.join("plugin.wasmc.o"));
}
