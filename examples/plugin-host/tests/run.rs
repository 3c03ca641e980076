//! Runs the `plugin-host` binary and checks its whole output.

#[test]
fn plugin_host_prints_the_reactor_calls() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plugin-host"))
        .output()
        .expect("running plugin-host");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "plugin says: plugin initialised\n\
         process(1) = 101\n\
         process(2) = 104\n\
         process(3) = 109\n\
         process(4) = 116\n\
         process(5) = 125\n\
         calls = 5\n\
         log lines kept by the host: 1\n"
    );
}
