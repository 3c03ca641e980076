//! `wasmc inspect` end to end: an artifact from `wasmc build`, a cross-target artifact, WAT
//! compiled in memory, `--json`, and a damaged artifact refused with the checksum error.

mod common;

use common::{TempDir, repo_path, stderr, stdout, wasmc};

fn example(name: &str) -> String {
    repo_path(&format!("examples/{name}"))
}

#[test]
fn inspect_a_built_artifact_and_a_cross_target_one() {
    let dir = TempDir::new("built");
    for (target, file) in [
        (None, "fib.wasmc.o"),
        (Some("aarch64-apple-darwin"), "fib-mac.wasmc.o"),
    ] {
        let artifact = dir.path(file);
        let mut args = vec!["build", "-o", &artifact];
        let fib = example("fib.wat");
        args.push(&fib);
        if let Some(t) = target {
            args.extend(["--target", t]);
        }
        let built = wasmc(&args);
        assert!(built.status.success(), "{}", stderr(&built));
        let out = wasmc(&["inspect", &artifact]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        for needle in [
            "format version:",
            "compiler:        wasmc ",
            "checksum:        xxh3-128 ",
            "(verified)",
            "exports (1):",
            "fib: (func (param i32) (result i32))",
            "largest 1:",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        if let Some(t) = target {
            assert!(text.contains(&format!("target:          {t}")), "{text}");
            assert!(text.contains("Mach-O"), "{text}");
        }
    }
}

#[test]
fn inspect_wat_as_json() {
    let out = wasmc(&["inspect", "--json", &example("fib.wat")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["compiled_in_memory"], serde_json::json!(true));
    assert_eq!(v["exports"][0]["name"], serde_json::json!("fib"));
    assert_eq!(
        v["exports"][0]["type"],
        serde_json::json!("(func (param i32) (result i32))")
    );
    assert_eq!(v["checksum"]["algorithm"], serde_json::json!("xxh3-128"));
    assert!(v["sizes"]["text"].as_u64().is_some_and(|n| n > 0), "{v}");
}

#[test]
fn inspect_refuses_a_damaged_artifact() {
    let dir = TempDir::new("damaged");
    let artifact = dir.path("fib.wasmc.o");
    let built = wasmc(&["build", &example("fib.wat"), "-o", &artifact]);
    assert!(built.status.success(), "{}", stderr(&built));
    let mut bytes = std::fs::read(&artifact).unwrap();
    // Flip the first byte of `.text`: a small module's code starts at the first multiple of
    // the target's text alignment, after the small header, metadata and data sections.
    let out = wasmc(&["inspect", "--json", &artifact]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let text_size = usize::try_from(v["sizes"]["text"].as_u64().unwrap()).unwrap();
    let text_start = usize::try_from(wasmc_abi::Target::host().unwrap().text_align()).unwrap();
    assert!(bytes.len() > text_start + text_size);
    bytes[text_start] ^= 0x80;
    std::fs::write(&artifact, &bytes).unwrap();
    let out = wasmc(&["inspect", &artifact]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("checksum") && err.contains("damaged"), "{err}");
    let out = wasmc(&["inspect", "/bin/ls"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a wasmc artifact"),
        "{}",
        stderr(&out)
    );
}
