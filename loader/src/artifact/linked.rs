//! [`Artifact::from_linked`]: an artifact that the system linker put into this program
//! (docs/STATIC_LINKING.md). Its code runs in place from the executable's own text pages: no
//! mapping, no copy, no protection change.
//!
//! The compiler's linkable artifacts (`CompileOptions::link_prefix`) carry a `.wasmc.image`
//! section (`wasmc_abi::obj::ImageParts`: header, metadata, trap table, data) and global
//! symbols on the start and end of it and of `.text`; the bindings that
//! `wasmc_compiler::build::link_file` generates turn those four symbols into the two slices
//! this file takes. Every check of `sections::parse` that still means something after linking
//! runs here, in the same order; the object-file checks (format, relocations, undefined
//! symbols) were the linker's business.

use wasmc_abi::metadata::{self, ArtifactHeader, Fnv64, HEADER_SIZE, ModuleMetadata};
use wasmc_abi::obj::{self, ImageParts};

use super::sections::{self, Integrity, Parsed};
use super::{Artifact, Code};
use crate::error::{Error, LoadError};

impl Artifact {
    /// Loads an artifact linked into this program: `image` is the bytes between the
    /// symbols `<prefix>_image` and `<prefix>_image_end`, `text` the bytes between
    /// `<prefix>_text` and `<prefix>_text_end` (`wasmc_abi::obj::LinkSymbols`). The
    /// generated bindings of `wasmc_compiler::build::link_file` make this call for you.
    ///
    /// Runs the checks of [`Artifact::from_bytes`] that apply: image framing, magic and
    /// format version, the whole-artifact checksum over the image *and the linked code*
    /// (which catches an image paired with another artifact's text), compiler version, layout,
    /// target, CPU features, memory configuration, the metadata hash, metadata, trap table,
    /// and that `text` is exactly as long as the compiler wrote it, aligned as the target
    /// requires, and contains every offset the metadata names. The code is then used where
    /// it is: it is already read+execute in the executable. The checksum reads every byte of
    /// image and code once (xxh3-128: about 37 us per MiB here; docs/STATIC_LINKING.md has
    /// the figures); use
    /// [`Artifact::from_linked_unchecked`] to skip it.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] (inside [`Error`]) naming what is wrong; nothing is executed before
    /// every check passed.
    ///
    /// # Safety
    ///
    /// The code is part of the program, and calling into it is as safe as the build that put
    /// it there: it must have been compiled by a trusted wasmc compiler from WebAssembly you
    /// mean to run. `text` must be executable memory (the linked `.text` of the artifact, not
    /// a copy in data), and both slices must be the symbols of the same artifact.
    pub unsafe fn from_linked(
        image: &'static [u8],
        text: &'static [u8],
    ) -> Result<Artifact, Error> {
        Ok(load_linked(image, text, Integrity::Verify)?)
    }

    /// Like [`Artifact::from_linked`], but without hashing the image and code against the
    /// checksum in the header. Every other check still runs.
    ///
    /// # Errors
    ///
    /// As for [`Artifact::from_linked`], except [`LoadError::Checksum`].
    ///
    /// # Safety
    ///
    /// As for [`Artifact::from_linked`]; in addition the caller vouches that the two slices
    /// belong together (for example because they came from the same generated bindings).
    pub unsafe fn from_linked_unchecked(
        image: &'static [u8],
        text: &'static [u8],
    ) -> Result<Artifact, Error> {
        Ok(load_linked(image, text, Integrity::Trust)?)
    }
}

fn corrupt(section: &'static str) -> impl FnOnce(wasmc_abi::DecodeError) -> LoadError {
    move |error| LoadError::Corrupt { section, error }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn load_linked(
    image: &'static [u8],
    text: &'static [u8],
    integrity: Integrity,
) -> Result<Artifact, LoadError> {
    let parts = ImageParts::decode(image).map_err(corrupt(obj::IMAGE_SECTION))?;
    // Magic and version first, as for a file: another format deserves "rebuild it".
    let stored = ArtifactHeader::check_prefix(parts.header).map_err(LoadError::Header)?;
    if parts.text_len != text.len() as u64 {
        return Err(LoadError::NotAnArtifact(format!(
            "the linked {} is {} bytes but its image expects {} (symbols of two different \
             artifacts?)",
            obj::TEXT_SECTION,
            text.len(),
            parts.text_len
        )));
    }
    if integrity == Integrity::Verify {
        let hdr: &[u8; HEADER_SIZE] = parts
            .header
            .try_into()
            .map_err(|_| LoadError::Header(wasmc_abi::DecodeError::Truncated { what: "header" }))?;
        let found = metadata::checksum(hdr, parts.meta, parts.traps, parts.data, text);
        if found != stored {
            return Err(LoadError::Checksum {
                expected: hex(&stored),
                found: hex(&found),
            });
        }
    }
    let header = ArtifactHeader::decode(parts.header).map_err(LoadError::Header)?;
    sections::check_header(&header)?;
    let align = usize::try_from(header.target.text_align()).unwrap_or(usize::MAX);
    if !text.is_empty() && !(text.as_ptr() as usize).is_multiple_of(align) {
        // Code may keep constants it loads with aligned instructions: refuse rather than
        // fault later. A linker always honours the section alignment, so this means the
        // slice is not the linked `.text`.
        return Err(LoadError::NotAnArtifact(format!(
            "the linked {} at {:p} is not aligned to {align} bytes",
            obj::TEXT_SECTION,
            text.as_ptr()
        )));
    }
    let found = Fnv64::hash(parts.meta);
    if found != header.meta_hash {
        return Err(LoadError::MetaHash {
            expected: header.meta_hash,
            found,
        });
    }
    let meta = ModuleMetadata::decode(parts.meta).map_err(corrupt(obj::META_SECTION))?;
    metadata::validate_trap_table(parts.traps).map_err(corrupt(obj::TRAPS_SECTION))?;
    sections::check_offsets(&meta, text.len(), parts.data.len())?;
    let parsed = Parsed {
        header,
        meta,
        meta_len: parts.meta.len(),
        traps: parts.traps.to_vec(),
        data: parts.data,
        // `finish` takes only the length of this range.
        text: 0..text.len(),
    };
    let addr = if text.is_empty() {
        std::ptr::NonNull::<u8>::dangling().as_ptr() as usize
    } else {
        text.as_ptr() as usize
    };
    let data = super::DataBytes::Static(parts.data);
    Ok(Artifact::finish(parsed, data, addr, Code::Linked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmap::{Mmap, Prot};

    /// The image and text of a linkable artifact. The test cannot run the system linker, so
    /// the text is copied to executable pages, as the linker would have placed it.
    fn linked(wat: &str) -> (&'static [u8], &'static [u8]) {
        use object::ObjectSection;
        let wasm = wat::parse_str(wat).unwrap();
        let opts = wasmc_compiler::CompileOptions::new().link_prefix(Some("t"));
        let bytes = wasmc_compiler::Compiler::new(&opts)
            .unwrap()
            .compile(&wasm)
            .unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let section = |name| {
            sections::find_section(&file, name)
                .and_then(|s| s.data().ok())
                .unwrap_or(&[])
        };
        let image = Box::leak(section(obj::IMAGE_SECTION).to_vec().into_boxed_slice());
        (image, exec(section(obj::TEXT_SECTION)))
    }

    /// `bytes` in fresh read+execute pages that live as long as the test process.
    fn exec(bytes: &[u8]) -> &'static [u8] {
        if bytes.is_empty() {
            return &[];
        }
        let mut m = Mmap::anon_rw(bytes.len()).unwrap();
        m.write_at_start(bytes).unwrap();
        m.protect(0..m.len(), Prot::ReadExec).unwrap();
        let m: &'static Mmap = Box::leak(Box::new(m));
        // SAFETY: the mapping is readable, at least `bytes.len()` long and never unmapped.
        unsafe { std::slice::from_raw_parts(m.as_ptr(), bytes.len()) }
    }

    fn err(image: &'static [u8], text: &'static [u8], checked: bool) -> String {
        // SAFETY: every caller passes inputs that must be refused before anything runs.
        let r = unsafe {
            if checked {
                Artifact::from_linked(image, text)
            } else {
                Artifact::from_linked_unchecked(image, text)
            }
        };
        r.expect_err("a bad linked artifact was accepted")
            .to_string()
    }

    #[test]
    fn runs_the_code_in_place() {
        let (image, text) = linked(
            r#"(module (func (export "add") (param i32 i32) (result i32)
                local.get 0 local.get 1 i32.add))"#,
        );
        for checked in [true, false] {
            // SAFETY: compiled just above; `text` is executable.
            let a = unsafe {
                if checked {
                    Artifact::from_linked(image, text)
                } else {
                    Artifact::from_linked_unchecked(image, text)
                }
            }
            .unwrap();
            assert_eq!(a.inner.text, text.as_ptr() as usize, "the code was moved");
            let mut store = crate::Store::new(());
            let i = crate::Linker::new().instantiate(&mut store, &a).unwrap();
            let add = i.get_typed_func::<(i32, i32), i32>(&store, "add").unwrap();
            assert_eq!(add.call(&mut store, (2, 40)).unwrap(), 42);
        }
    }

    #[test]
    fn traps_in_linked_code_are_reported() {
        let (image, text) = linked(
            r#"(module (func (export "div") (param i32) (result i32) i32.const 1 local.get 0 i32.div_u))"#,
        );
        // SAFETY: compiled just above; `text` is executable.
        let a = unsafe { Artifact::from_linked(image, text) }.unwrap();
        let mut store = crate::Store::new(());
        let i = crate::Linker::new().instantiate(&mut store, &a).unwrap();
        let div = i.get_typed_func::<i32, i32>(&store, "div").unwrap();
        let e = div.call(&mut store, 0).unwrap_err();
        assert!(e.to_string().contains("divide by zero"), "{e}");
        assert_eq!(div.call(&mut store, 1).unwrap(), 1);
    }

    #[test]
    fn mismatched_or_damaged_parts_are_refused() {
        let (image, text) = linked(r#"(module (func (export "f") (result i32) i32.const 7))"#);
        // Text of another length: the image belongs to other code.
        let e = err(image, &text[..text.len() - 1], false);
        assert!(e.contains("image expects"), "{e}");
        // Same length, one byte changed: only the checksum notices.
        let mut other = text.to_vec();
        *other.last_mut().unwrap() ^= 1;
        let e = err(image, exec(&other), true);
        assert!(e.contains("checksum"), "{e}");
        // A damaged image frame.
        let mut bad = image.to_vec();
        bad[0] ^= 1;
        let e = err(Box::leak(bad.into_boxed_slice()), text, true);
        assert!(e.contains(obj::IMAGE_SECTION), "{e}");
        // A flipped metadata byte: the checksum, or without it the metadata hash, refuses.
        let mut bad = image.to_vec();
        bad[obj::IMAGE_PREFIX_SIZE + HEADER_SIZE] ^= 0x40;
        let bad: &'static [u8] = Box::leak(bad.into_boxed_slice());
        assert!(err(bad, text, true).contains("checksum"));
        err(bad, text, false);
        // Text at an address the target's alignment does not allow.
        let mut shifted = vec![0u8];
        shifted.extend_from_slice(text);
        let e = err(image, &exec(&shifted)[1..], false);
        assert!(e.contains("aligned"), "{e}");
    }

    #[test]
    fn a_module_without_code_loads() {
        let (image, text) = linked("(module (memory (export \"m\") 1))");
        assert!(text.is_empty());
        // SAFETY: compiled just above.
        let a = unsafe { Artifact::from_linked(image, text) }.unwrap();
        assert_eq!(a.exports().len(), 1);
    }
}
