//! Large data segments of an artifact loaded from a file are mapped copy-on-write from the
//! file into linear memory instead of being copied (docs/ARCHITECTURE.md, instantiation).
//! Whatever the path, the memory must hold exactly what the spec says: later segments win,
//! writes stay in their instance, the file never changes, and the memory still grows.

use std::path::{Path, PathBuf};

use wasmc_loader::{Artifact, Instance, Linker, Memory, Store};

use crate::compile;

const MIB: usize = 1 << 20;

/// A path in the system temp dir unique to this process and test.
fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "wasmc-test-{}-cow-{tag}.wasmc.o",
        std::process::id()
    ))
}

/// An artifact written to disk, removed when dropped.
struct ArtifactFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl ArtifactFile {
    /// Compiles `wat` and writes the artifact to a fresh file.
    fn new(tag: &str, wat: &str) -> ArtifactFile {
        let bytes = compile(wat);
        let path = temp_path(tag);
        std::fs::write(&path, &bytes).expect("writing the artifact");
        ArtifactFile { path, bytes }
    }

    fn load(&self) -> Artifact {
        // SAFETY: the file was just written from our own compiler's output and is not
        // modified while loaded.
        #[allow(unsafe_code, reason = "loading an artifact this test wrote")]
        unsafe {
            Artifact::from_file(&self.path).expect("loading the artifact file")
        }
    }

    fn load_bytes(&self) -> Artifact {
        // SAFETY: as for `load`.
        #[allow(unsafe_code, reason = "loading an artifact this test compiled")]
        unsafe {
            Artifact::from_bytes(&self.bytes).expect("loading the artifact bytes")
        }
    }
}

impl Drop for ArtifactFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `len` bytes of a pattern that differs between seeds and between pages, never all zeros.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i % 251) as u8).wrapping_add(seed.wrapping_mul(17)) ^ ((i / 4096) as u8))
        .collect()
}

/// Bytes as a WAT string literal.
fn wat_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// A module with one exported memory of `pages` pages, `store8`/`load8`/`grow` exports,
/// and the active segments `(memory offset, bytes)` in order.
fn module(pages: u32, segments: &[(usize, &[u8])]) -> String {
    let mut wat = format!(
        r#"(module (memory (export "mem") {pages})
             (func (export "store8") (param i32 i32) local.get 0 local.get 1 i32.store8)
             (func (export "load8") (param i32) (result i32) local.get 0 i32.load8_u)
             (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)"#
    );
    for (off, bytes) in segments {
        wat.push_str(&format!(
            "(data (i32.const {off}) \"{}\")",
            wat_string(bytes)
        ));
    }
    wat.push(')');
    wat
}

/// The memory the spec prescribes: zeros, then each segment copied in order.
fn expected_memory(pages: u32, segments: &[(usize, &[u8])]) -> Vec<u8> {
    let mut mem = vec![0u8; pages as usize * 65536];
    for (off, bytes) in segments {
        mem[*off..off + bytes.len()].copy_from_slice(bytes);
    }
    mem
}

fn instantiate(store: &mut Store<()>, artifact: &Artifact) -> (Instance, Memory) {
    let instance = Linker::new()
        .instantiate(store, artifact)
        .expect("instantiating");
    let memory = instance.get_memory(store, "mem").expect("mem export");
    (instance, memory)
}

/// First index where two memories differ, for a readable failure.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len() != b.len() {
        return Some(a.len().min(b.len()));
    }
    a.iter().zip(b).position(|(x, y)| x != y)
}

/// Address ranges of `/proc/self/maps` entries that map `path` and lie inside `memory`.
#[cfg(target_os = "linux")]
fn file_mappings_inside(path: &Path, memory: &[u8]) -> Vec<(usize, usize)> {
    let path = std::fs::canonicalize(path).expect("canonical artifact path");
    let path = path.to_str().expect("UTF-8 temp path");
    let base = memory.as_ptr() as usize;
    let end = base + memory.len();
    let maps = std::fs::read_to_string("/proc/self/maps").expect("reading /proc/self/maps");
    maps.lines()
        .filter(|line| line.ends_with(path))
        .filter_map(|line| {
            let (range, _) = line.split_once(' ')?;
            let (lo, hi) = range.split_once('-')?;
            let lo = usize::from_str_radix(lo, 16).ok()?;
            let hi = usize::from_str_radix(hi, 16).ok()?;
            (lo >= base && hi <= end).then(|| (lo - base, hi - base))
        })
        .collect()
}

/// Bytes of `memory` mapped from the artifact file at `path` (0 off Linux: not observable).
fn mapped_bytes(path: &Path, memory: &[u8]) -> usize {
    #[cfg(target_os = "linux")]
    {
        file_mappings_inside(path, memory)
            .iter()
            .map(|(lo, hi)| hi - lo)
            .sum()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (path, memory);
        0
    }
}

#[test]
fn megabyte_segments_at_unaligned_and_aligned_offsets_are_mapped() {
    let unaligned = pattern(MIB + 123, 1);
    let aligned = pattern(MIB, 2);
    let small = pattern(300, 3);
    let segments: [(usize, &[u8]); 3] = [(0x10003, &unaligned), (5, &small), (0x20_0000, &aligned)];
    let file = ArtifactFile::new("offsets", &module(64, &segments));
    let expected = expected_memory(64, &segments);
    for artifact in [file.load(), file.load_bytes()] {
        let mut store = Store::new(());
        let (_, memory) = instantiate(&mut store, &artifact);
        let data = memory.data(&store);
        assert_eq!(first_difference(data, &expected), None);
    }
    let artifact = file.load();
    let mut store = Store::new(());
    let (_, memory) = instantiate(&mut store, &artifact);
    let mapped = mapped_bytes(&file.path, memory.data(&store));
    if cfg!(target_os = "linux") {
        // Every whole page of both large segments comes from the file (all but at most a
        // page at each end of the unaligned one); the small one and the partial pages at the
        // ends were copied.
        assert!(
            (2 * MIB - 2 * 65536..=2 * MIB).contains(&mapped),
            "{mapped} bytes mapped from the file"
        );
    }
    // Loaded from bytes: nothing to map from.
    let artifact = file.load_bytes();
    let mut store = Store::new(());
    let (_, memory) = instantiate(&mut store, &artifact);
    assert_eq!(mapped_bytes(&file.path, memory.data(&store)), 0);
}

#[test]
fn later_segments_overwrite_mapped_pages() {
    let big = pattern(MIB, 4);
    // Inside `big`'s mapped pages, across a page boundary.
    let inner = pattern(3 * 4096 + 7, 5);
    // Another large one overlapping the end of `big`, at a different page phase.
    let overlap = pattern(256 * 1024, 6);
    // Large, entirely covered by `big`: its interior replaces `big`'s mapped pages.
    let covered = pattern(128 * 1024, 7);
    let segments: [(usize, &[u8]); 4] = [
        (0x10000, &big),
        (0x10000 + 4096 * 5 - 3, &inner),
        (0x10000 + MIB - 65536 + 11, &overlap),
        (0x40000 + 4096, &covered),
    ];
    let file = ArtifactFile::new("overlap", &module(24, &segments));
    let expected = expected_memory(24, &segments);
    let artifact = file.load();
    let mut store = Store::new(());
    let (_, memory) = instantiate(&mut store, &artifact);
    assert_eq!(first_difference(memory.data(&store), &expected), None);
    if cfg!(target_os = "linux") {
        assert!(mapped_bytes(&file.path, memory.data(&store)) >= MIB / 2);
    }
}

#[test]
fn memory_with_mapped_pages_grows() {
    let big = pattern(MIB, 8);
    let segments: [(usize, &[u8]); 1] = [(0x8000, &big)];
    let file = ArtifactFile::new("grow", &module(17, &segments));
    let artifact = file.load();
    let mut store = Store::new(());
    let (instance, memory) = instantiate(&mut store, &artifact);
    let grow = instance
        .get_typed_func::<i32, i32>(&store, "grow")
        .expect("grow");
    let store8 = instance
        .get_typed_func::<(i32, i32), ()>(&store, "store8")
        .expect("store8");
    let load8 = instance
        .get_typed_func::<i32, i32>(&store, "load8")
        .expect("load8");
    if cfg!(target_os = "linux") {
        assert!(mapped_bytes(&file.path, memory.data(&store)) >= MIB - 65536);
    }
    assert_eq!(grow.call(&mut store, 3).expect("grow"), 17);
    memory.grow(&mut store, 1).expect("host grow");
    assert_eq!(memory.size(&store), 21);
    let mut expected = expected_memory(21, &segments);
    assert_eq!(first_difference(memory.data(&store), &expected), None);
    for addr in [0x8000 + 70_000, 20 * 65536 + 5, 21 * 65536 - 1] {
        store8.call(&mut store, (addr, 0xa5)).expect("store8");
        expected[addr as usize] = 0xa5;
        assert_eq!(load8.call(&mut store, addr).expect("load8"), 0xa5);
    }
    assert_eq!(first_difference(memory.data(&store), &expected), None);
}

#[test]
fn writes_to_mapped_pages_stay_in_their_instance() {
    let big = pattern(2 * MIB, 9);
    let segments: [(usize, &[u8]); 1] = [(0x10000, &big)];
    let file = ArtifactFile::new("private", &module(40, &segments));
    let expected = expected_memory(40, &segments);
    let artifact = file.load();
    let mut store = Store::new(());
    let (a, mem_a) = instantiate(&mut store, &artifact);
    let (_, mem_b) = instantiate(&mut store, &artifact);
    if cfg!(target_os = "linux") {
        // The writes below go to pages mapped from the file.
        for m in [mem_a, mem_b] {
            assert!(mapped_bytes(&file.path, m.data(&store)) >= 2 * MIB - 65536);
        }
    }
    let store8 = a
        .get_typed_func::<(i32, i32), ()>(&store, "store8")
        .expect("store8");
    // From Wasm and from the host, into pages that came from the file.
    for addr in [0x10000 + 65536 + 1, 0x10000 + MIB as i32] {
        store8.call(&mut store, (addr, 0)).expect("store8");
    }
    mem_a.data_mut(&mut store)[0x10000 + 3 * 65536..0x10000 + 4 * 65536].fill(0xee);
    let data_a = mem_a.data(&store);
    assert_eq!(data_a[0x10000 + 65536 + 1], 0);
    assert_eq!(data_a[0x10000 + MIB], 0);
    assert_eq!(data_a[0x10000 + 3 * 65536 + 100], 0xee);
    assert_eq!(first_difference(mem_b.data(&store), &expected), None);

    // Another store, instantiated after the writes, sees the file's bytes too.
    let mut other = Store::new(());
    let (_, mem_c) = instantiate(&mut other, &artifact);
    assert_eq!(first_difference(mem_c.data(&other), &expected), None);
    drop(store);
    drop(other);
    assert_eq!(
        std::fs::read(&file.path).expect("reading the artifact back"),
        file.bytes,
        "the artifact file changed"
    );
}

#[test]
fn segments_into_imported_memory_are_copied() {
    let big = pattern(MIB, 10);
    let wat = format!(
        r#"(module (import "env" "mem" (memory 20))
             (data (i32.const 0x10000) "{}"))"#,
        wat_string(&big)
    );
    let file = ArtifactFile::new("imported", &wat);
    let artifact = file.load();
    let mut store = Store::new(());
    let memory = Memory::new(
        &mut store,
        wasmc_abi::metadata::MemoryType {
            min: 20,
            max: None,
            idx64: false,
            shared: false,
            page_size_log2: 16,
        },
    )
    .expect("memory");
    let mut linker = Linker::new();
    linker.define("env", "mem", memory).expect("define");
    linker
        .instantiate(&mut store, &artifact)
        .expect("instantiating");
    let data = memory.data(&store);
    assert_eq!(&data[0x10000..0x10000 + MIB], &big[..]);
    assert_eq!(mapped_bytes(&file.path, data), 0);
}

#[test]
fn out_of_bounds_large_segment_traps_without_mapping() {
    let big = pattern(MIB, 11);
    // 16 pages = 1 MiB of memory: the segment at 64 KiB runs past the end.
    let file = ArtifactFile::new("oob", &module(16, &[(0x10000, &big)]));
    let artifact = file.load();
    let mut store = Store::new(());
    let err = Linker::new()
        .instantiate(&mut store, &artifact)
        .expect_err("the segment does not fit");
    assert!(err.to_string().contains("out of bounds"), "{err}");
}

#[test]
fn memory64_segments_are_mapped() {
    let big = pattern(MIB, 12);
    let wat = format!(
        r#"(module (memory (export "mem") i64 20)
             (data (i64.const 0x30005) "{}"))"#,
        wat_string(&big)
    );
    let file = ArtifactFile::new("memory64", &wat);
    let artifact = file.load();
    let mut store = Store::new(());
    let (_, memory) = instantiate(&mut store, &artifact);
    let expected = expected_memory(20, &[(0x30005, &big)]);
    assert_eq!(first_difference(memory.data(&store), &expected), None);
    if cfg!(target_os = "linux") {
        assert!(mapped_bytes(&file.path, memory.data(&store)) >= MIB - 2 * 65536);
    }
}
