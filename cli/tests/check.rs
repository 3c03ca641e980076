//! `wasmc check` end to end with the manifest documented in docs/CLI.md
//! (`tests/data/host.toml`): a plugin that links (WAT, Wasm binary and artifact), one that
//! does not (every kind of finding, text and JSON), a JSON manifest, `--import-map`, and
//! manifest errors.

mod common;

use common::{TempDir, repo_path, stderr, stdout, wasmc};

fn data(name: &str) -> String {
    repo_path(&format!("cli/tests/data/{name}"))
}

#[test]
fn a_matching_plugin_links_in_every_form() {
    let dir = TempDir::new("ok");
    let wasm = dir.path("plugin.wasm");
    std::fs::write(&wasm, wat::parse_file(data("plugin.wat")).unwrap()).unwrap();
    let artifact = dir.path("plugin.wasmc.o");
    let built = wasmc(&["build", &data("plugin.wat"), "-o", &artifact]);
    assert!(built.status.success(), "{}", stderr(&built));
    for plugin in [data("plugin.wat"), wasm, artifact] {
        let o = wasmc(&["check", &plugin, "--host", &data("host.toml")]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{plugin}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        let text = stdout(&o);
        assert!(
            text.contains("links against the host (4 of 4 imports satisfied)"),
            "{text}"
        );
        // Provided but unused: a note, not a failure.
        assert!(
            text.contains("note: host function `env.abort` is not imported by the plugin"),
            "{text}"
        );
    }
}

#[test]
fn a_mismatched_plugin_fails_with_every_problem_named() {
    let o = wasmc(&[
        "check",
        &data("plugin-bad.wat"),
        "--host",
        &data("host.toml"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    for needle in [
        "error: mistyped import `env.log`: the plugin expects func (i64) -> (), the host \
         provides func (i32, i32) -> ()",
        "error: missing import `env.missing`",
        "error: missing export `_initialize`: the host requires func () -> ()",
        "error: mistyped export `process`: the host requires func (i32) -> i32, the plugin \
         exports func (i64) -> i64",
        "note: host memory `env.scratch` is not imported by the plugin",
        "does not link against the host: 4 problem(s)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }

    let o = wasmc(&[
        "check",
        &data("plugin-bad.wat"),
        "--host",
        &data("host.toml"),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["linkable"], serde_json::json!(false));
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds[..4],
        [
            "mistyped-import",
            "missing-import",
            "missing-export",
            "mistyped-export"
        ]
    );
    assert_eq!(
        v["findings"][0]["found"],
        serde_json::json!("func (i32, i32) -> ()")
    );
}

#[test]
fn json_manifests_and_extra_import_maps() {
    let dir = TempDir::new("json");
    let host = dir.path("host.json");
    std::fs::write(
        &host,
        r#"{
            "functions": [
                {"module": "host", "name": "log", "params": ["i32", "i32"], "results": []}
            ],
            "exports": [{"name": "run", "type": "() -> ()"}]
        }"#,
    )
    .unwrap();
    let plugin = dir.path("p.wat");
    std::fs::write(
        &plugin,
        r#"(module (import "env" "log" (func (param i32 i32))) (func (export "run")))"#,
    )
    .unwrap();
    // `env.log` is only found after renaming it.
    let o = wasmc(&["check", &plugin, "--host", &host]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("missing import `env.log`"),
        "{}",
        stdout(&o)
    );
    let map = dir.path("imports.map");
    std::fs::write(&map, "import env.log = host.log\n").unwrap();
    let o = wasmc(&["check", &plugin, "--host", &host, "--import-map", &map]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("1 of 1 imports satisfied"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_manifests_are_errors_naming_the_entry() {
    let dir = TempDir::new("bad");
    let host = dir.path("host.toml");
    std::fs::write(
        &host,
        "[[functions]]\nmodule = \"env\"\nname = \"log\"\ntype = \"(i32) -> int\"\n",
    )
    .unwrap();
    let o = wasmc(&["check", &data("plugin.wat"), "--host", &host]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: functions[0]: in signature"),
        "{err}"
    );
    assert!(err.contains("`int`") && err.contains("host.toml"), "{err}");
    std::fs::write(&host, "wasi = [").unwrap();
    let o = wasmc(&["check", &data("plugin.wat"), "--host", &host]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("invalid TOML"), "{}", stderr(&o));
}
