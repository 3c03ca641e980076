//! Artifacts on disk: compile with the library, write the object to a file, load it back with
//! `Artifact::from_file` and run it; and refuse files that are not (valid) artifacts.

use std::path::PathBuf;

use wasmc_loader::{Artifact, Linker, Store};

use crate::compile;

/// A path in the system temp dir unique to this process and test.
fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wasmc-test-{}-{tag}.wasmc.o", std::process::id()))
}

/// Removes the file when dropped, so a failing test leaves nothing behind.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn load_file(path: &std::path::Path) -> Result<Artifact, wasmc_loader::Error> {
    // SAFETY: every file loaded here was written by this test from our own compiler's output,
    // or is deliberately not an artifact at all (the loader must refuse it before mapping code).
    #[allow(unsafe_code, reason = "loading artifacts this test wrote")]
    unsafe {
        Artifact::from_file(path)
    }
}

#[test]
fn artifact_written_to_disk_runs() {
    let file = TempFile(temp_path("fib"));
    let bytes = compile(include_str!("../../examples/fib.wat"));
    std::fs::write(&file.0, &bytes).expect("writing the artifact");
    let artifact = load_file(&file.0).expect("loading the artifact file");
    let mut store = Store::new(());
    let instance = Linker::new()
        .instantiate(&mut store, &artifact)
        .expect("instantiating");
    let fib = instance
        .get_typed_func::<i32, i32>(&store, "fib")
        .expect("fib export");
    assert_eq!(fib.call(&mut store, 20).expect("fib(20)"), 6765);
}

#[test]
fn same_artifact_instantiates_twice_with_separate_state() {
    let file = TempFile(temp_path("counter"));
    let bytes = compile(
        r#"(module (global $g (mut i32) (i32.const 0)) (memory 1)
             (func (export "bump") (result i32)
               global.get $g i32.const 1 i32.add global.set $g
               i32.const 0 i32.const 0 i32.load i32.const 1 i32.add i32.store
               global.get $g i32.const 0 i32.load i32.add))"#,
    );
    std::fs::write(&file.0, &bytes).expect("writing the artifact");
    let artifact = load_file(&file.0).expect("loading the artifact file");
    let mut store = Store::new(());
    let linker = Linker::new();
    let a = linker.instantiate(&mut store, &artifact).expect("first");
    let b = linker.instantiate(&mut store, &artifact).expect("second");
    let bump_a = a.get_typed_func::<(), i32>(&store, "bump").expect("bump");
    let bump_b = b.get_typed_func::<(), i32>(&store, "bump").expect("bump");
    assert_eq!(bump_a.call(&mut store, ()).expect("a"), 2);
    assert_eq!(bump_a.call(&mut store, ()).expect("a"), 4);
    assert_eq!(bump_b.call(&mut store, ()).expect("b"), 2);
}

#[test]
fn non_artifacts_are_refused_with_a_load_error() {
    let file = TempFile(temp_path("garbage"));
    std::fs::write(&file.0, b"\x7fELF this is not an object file").expect("writing");
    let err = load_file(&file.0).expect_err("garbage must be refused");
    assert!(err.is_load(), "{err}");

    let missing = temp_path("does-not-exist");
    let err = load_file(&missing).expect_err("a missing file");
    assert!(err.to_string().contains("does-not-exist"), "{err}");
}

#[test]
fn artifact_with_corrupted_metadata_is_refused() {
    use object::{Object, ObjectSection};

    let mut bytes = compile(include_str!("../../examples/fib.wat"));
    let (start, len) = {
        let file = object::File::parse(&*bytes).expect("our artifact parses");
        let meta = file
            .section_by_name(wasmc_abi::obj::META_SECTION)
            .expect("metadata section");
        meta.file_range().expect("metadata has file contents")
    };
    assert!(len > 0);
    // Flip a byte in the middle of the metadata: the header's hash of it no longer matches.
    let at = usize::try_from(start + len / 2).expect("small artifact");
    bytes[at] ^= 0x5a;
    let file = TempFile(temp_path("corrupt"));
    std::fs::write(&file.0, &bytes).expect("writing");
    let err = load_file(&file.0).expect_err("corrupted metadata must be refused");
    assert!(err.is_load(), "{err}");
}

#[test]
fn artifact_for_another_target_is_refused() {
    let Some(host) = wasmc_abi::Target::host() else {
        return;
    };
    let other = wasmc_abi::Target::ALL
        .into_iter()
        .find(|t| *t != host)
        .expect("more than one target");
    let wasm = wat::parse_str(include_str!("../../examples/fib.wat")).expect("fib.wat");
    let bytes = wasmc_compiler::Compiler::new(&wasmc_compiler::CompileOptions::new().target(other))
        .expect("cross compiler")
        .compile(&wasm)
        .expect("cross compile");
    let file = TempFile(temp_path("foreign"));
    std::fs::write(&file.0, &bytes).expect("writing");
    let err = load_file(&file.0).expect_err("a foreign artifact must be refused");
    assert!(err.is_load(), "{err}");
}
