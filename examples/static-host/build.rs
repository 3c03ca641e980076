//! Compiles `plugin.wat`, `other-plugin.wat` and `hello.wat` into linkable artifacts, has
//! Cargo link them into this package's executables, and writes the typed bindings
//! `OUT_DIR/<prefix>.rs` that `src/main.rs` (the first two) and `src/bin/hello_command.rs`
//! include. Each binary keeps only the modules it references (`--gc-sections`).

fn main() {
    let linked = wasmc_compiler::build::link_file("plugin.wat".as_ref())
        .unwrap_or_else(|e| panic!("linking the plugin: {e}"));
    assert_eq!(linked.prefix, "plugin");
    // The prefix comes from the file stem, made a C identifier.
    let other = wasmc_compiler::build::link_file("other-plugin.wat".as_ref())
        .unwrap_or_else(|e| panic!("linking the other plugin: {e}"));
    assert_eq!(other.prefix, "other_plugin");
    wasmc_compiler::build::link_file("hello.wat".as_ref())
        .unwrap_or_else(|e| panic!("linking the WASI command: {e}"));
}
