//! Runs the `static-host` binary and checks its whole output: the calls through the generated
//! bindings, the host import, the trap found in the linked code, and that the plugin's code
//! lies in the executable's own read+execute file mapping (Linux `/proc/self/maps`).

#[test]
fn static_host_calls_the_linked_plugin_in_place() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_static-host"))
        .output()
        .expect("running static-host");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let where_ = if cfg!(target_os = "linux") {
        "yes"
    } else {
        "unknown (no /proc/self/maps)"
    };
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "add(2, 40) = 42\n\
             hypot(3, 4) = 5\n\
             count_to(5) = 15, host saw [1, 2, 3, 4, 5]\n\
             echo(7) = Some(7), null: 0\n\
             div(1, 0): wasm trap: integer divide by zero in function 4\n\
             code in the executable's text: {where_}\n\
             other_plugin add(6, 7) = 42\n"
        )
    );
}

/// The timing mode runs all three loaders on the same object (the figures themselves are
/// not checked: they depend on the machine).
#[test]
fn static_host_timing_mode_loads_all_three_ways() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_static-host"))
        .arg("--timing")
        .output()
        .expect("running static-host --timing");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("load time per call (")
            && last.contains("from_linked ")
            && last.contains("from_file "),
        "{stdout}"
    );
}

/// The WASI command linked into `hello-command`: its output and `proc_exit` status are the
/// native program's.
#[test]
fn hello_command_is_a_native_wasi_program() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hello-command"))
        .output()
        .expect("running hello-command");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from a linked WASI command\n"
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
