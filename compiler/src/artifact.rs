//! Writes the artifact: a relocatable ELF (Linux) or Mach-O (Darwin) object with the header,
//! metadata, trap table, data and text sections of `abi::obj`, local function symbols and the
//! global header symbol. There are no relocations and no undefined symbols: `.text` comes out
//! of `layout.rs` fully resolved and everything else is plain data; the written object is
//! read back to check it.
//!
//! The header records a checksum of the header itself and of every section the loader reads
//! ([`metadata::checksum`]); nothing here depends on time,
//! paths, addresses or hash-map order, so the same input gives byte-identical artifacts.
//!
//! Each large active segment of a defined memory with a constant offset is padded to sit at a
//! file offset congruent to its memory offset modulo `obj::COW_ALIGN`, so the loader can map
//! its pages from the file ([`lay_out_data`]); `.wasmc.data` is then aligned to `COW_ALIGN`.
//!
//! With a link prefix (`CompileOptions::link_prefix`) the object is also *linkable*: an
//! allocated `.wasmc.image` section and four global symbols let the system linker put it into
//! a native program (docs/STATIC_LINKING.md). Symbols are not relocations: the object still
//! has none.

use object::write::{Object, SectionId, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};
use wasmc_abi::metadata::{
    self, ArtifactHeader, ConstOp, DataSegment, DefinedFunc, ModuleMetadata, NONE, SegmentMode,
};
use wasmc_abi::{Target, obj};

use crate::CompileError;
use crate::environ::ModuleInfo;
use crate::isa::{MEMORY_GUARD, MEMORY_RESERVATION};
use crate::layout::{Code, Piece};
use crate::translate::CodegenOptions;

/// The module description the loader instantiates from; `datas` are the data segments as
/// laid out in `.wasmc.data` ([`lay_out_data`]).
fn module_metadata(
    module: &ModuleInfo<'_>,
    code: &Code,
    datas: Vec<DataSegment>,
) -> ModuleMetadata {
    let imported = module.num_imported_funcs;
    let defined = module.functions.len() - imported as usize;
    let mut defined_funcs = vec![
        DefinedFunc {
            text_off: 0,
            text_len: 0,
            entry_off: NONE,
            func_ref_slot: NONE,
        };
        defined
    ];
    let mut host_trampolines = vec![NONE; module.types.len()];
    for p in &code.pieces {
        match p.piece {
            Piece::Func(f) => {
                let d = &mut defined_funcs[(f - imported) as usize];
                d.text_off = p.off;
                d.text_len = p.len;
                d.func_ref_slot = module.func_ref_slot(f).unwrap_or(NONE);
            }
            Piece::Entry(f) => defined_funcs[(f - imported) as usize].entry_off = p.off,
            Piece::ToHost(t) => host_trampolines[t as usize] = p.off,
            Piece::ImportStub(_) => {}
        }
    }
    ModuleMetadata {
        name: module.name.clone(),
        types: module.types.clone(),
        imports: module.imports.clone(),
        functions: module.functions.clone(),
        defined_funcs,
        escaped_funcs: module.escaped_funcs.clone(),
        tables: module.tables.clone(),
        memories: module.memories.clone(),
        globals: module.globals.clone(),
        global_inits: module.global_inits.clone(),
        exports: module.exports.clone(),
        start: module.start,
        elems: module.elems.clone(),
        datas,
        host_trampolines,
        func_names: module.func_names.clone(),
    }
}

/// The symbol name of a piece of text, as the bytes written to the object's string table.
///
/// Wasm names (imports, the name section) may contain any Unicode scalar, U+0000 included,
/// but string tables are NUL-terminated: each NUL becomes `\0`. The symbols are only for
/// debuggers and profilers (the loader finds code through the metadata), so the escape need
/// not be reversible.
fn symbol_name(module: &ModuleInfo<'_>, piece: Piece) -> Vec<u8> {
    let name = match piece {
        Piece::Func(f) => obj::func_symbol(f, module.func_name(f)),
        Piece::ImportStub(f) => {
            let (m, n) = &module.imported_func_names[f as usize];
            obj::import_stub_symbol(m, n)
        }
        Piece::Entry(f) => obj::entry_trampoline_symbol(f),
        Piece::ToHost(t) => obj::host_trampoline_symbol(t),
    };
    if name.contains('\0') {
        name.replace('\0', "\\0").into_bytes()
    } else {
        name.into_bytes()
    }
}

/// The memory offset of a data segment whose pages the loader may map from the artifact
/// file (see [`obj::COW_ALIGN`]): an active segment of a defined memory with a constant
/// offset and at least `COW_ALIGN` bytes. `None` for every other segment.
fn mappable_offset(module: &ModuleInfo<'_>, seg: &DataSegment) -> Option<u64> {
    let SegmentMode::Active { index, offset } = &seg.mode else {
        return None;
    };
    if *index < module.num_imported_memories || u64::from(seg.data_len) < obj::COW_ALIGN {
        return None;
    }
    // An `i32` offset is zero-extended (only its low bits matter here anyway).
    match offset.ops.as_slice() {
        [ConstOp::I32Const(v)] => Some(u64::from(*v as u32)),
        [ConstOp::I64Const(v)] => Some(*v as u64),
        _ => None,
    }
}

/// `.wasmc.data` as written.
struct DataLayout {
    /// The data segments, with their offsets in `bytes`.
    datas: Vec<DataSegment>,
    /// The section's bytes.
    bytes: Vec<u8>,
    /// The section's alignment: `COW_ALIGN` if a segment is placed for mapping, otherwise 8
    /// (no padding at all for modules without large segments).
    align: u64,
}

/// Lays out `.wasmc.data`: the segments of `module` (packed in `module.data_bytes`) in
/// order, each mappable one ([`mappable_offset`]) preceded by zeros so that its file offset,
/// given that the section starts `shift` bytes past a multiple of `COW_ALIGN` in the file,
/// is congruent to its memory offset modulo `COW_ALIGN`; the others stay packed.
fn lay_out_data(module: &ModuleInfo<'_>, shift: u64) -> Result<DataLayout, CompileError> {
    let align = obj::COW_ALIGN;
    let mut mappable = false;
    let too_big = || CompileError::unsupported("more than 4 GiB of data segments", 0);
    let mut bytes = Vec::with_capacity(module.data_bytes.len());
    let mut datas = Vec::with_capacity(module.datas.len());
    for seg in &module.datas {
        let start = seg.data_off as usize;
        let src = module
            .data_bytes
            .get(start..start + seg.data_len as usize)
            .ok_or_else(|| CompileError::codegen(None, "data segment outside the data bytes"))?;
        if let Some(mem_off) = mappable_offset(module, seg) {
            mappable = true;
            let at = (bytes.len() as u64 + shift) % align;
            let pad = (mem_off % align + align - at) % align;
            bytes.resize(
                bytes.len() + usize::try_from(pad).map_err(|_| too_big())?,
                0,
            );
        }
        let data_off = u32::try_from(bytes.len()).map_err(|_| too_big())?;
        bytes.extend_from_slice(src);
        datas.push(DataSegment {
            data_off,
            ..seg.clone()
        });
    }
    Ok(DataLayout {
        datas,
        bytes,
        align: if mappable { align } else { 8 },
    })
}

/// File offset of `.wasmc.data` in the object `bytes`, modulo `COW_ALIGN`.
fn data_shift(bytes: &[u8], target: Target) -> Result<u64, CompileError> {
    use object::{Object as _, ObjectSection as _};
    let file = object::File::parse(bytes)
        .map_err(|e| CompileError::codegen(None, format!("reading the object back: {e}")))?;
    let name = if target.is_macho() {
        obj::macho_section(obj::DATA_SECTION).map_or(obj::DATA_SECTION, |(_, sect)| sect)
    } else {
        obj::DATA_SECTION
    };
    let off = file
        .section_by_name(name)
        .and_then(|s| s.file_range())
        .map_or(0, |(off, _)| off);
    Ok(off % obj::COW_ALIGN)
}

/// Writes the artifact bytes.
///
/// When a segment is placed for mapping, the section alignment puts `.wasmc.data` at a
/// multiple of `COW_ALIGN` in an ELF file; but a Mach-O object puts its sections at their
/// address plus the (unaligned) size of the load commands. So the data is laid out for a
/// file offset `shift` read back from a first writing, and written again if that was not
/// zero. The shift depends only on the number and kind of load commands, which the second
/// writing keeps.
pub(crate) fn write(
    target: Target,
    isa_features: u64,
    options: CodegenOptions,
    module: &ModuleInfo<'_>,
    code: &Code,
    link_prefix: Option<&str>,
) -> Result<Vec<u8>, CompileError> {
    let inputs = ObjectInputs {
        target,
        isa_features,
        options,
        module,
        code,
        link_prefix,
    };
    let write = |data| write_object(&inputs, data);
    let data = lay_out_data(module, 0)?;
    let mappable = data.align == obj::COW_ALIGN;
    let bytes = write(data)?;
    let shift = data_shift(&bytes, target)?;
    if !mappable || shift == 0 {
        return Ok(bytes);
    }
    let bytes = write(lay_out_data(module, shift)?)?;
    if data_shift(&bytes, target)? != shift {
        return Err(CompileError::codegen(
            None,
            "the file offset of the data section moved between two writings",
        ));
    }
    Ok(bytes)
}

/// Everything but the data layout that goes into an artifact object.
#[derive(Clone, Copy)]
struct ObjectInputs<'a, 'm> {
    target: Target,
    isa_features: u64,
    options: CodegenOptions,
    module: &'a ModuleInfo<'m>,
    code: &'a Code,
    link_prefix: Option<&'a str>,
}

/// Writes the object with `.wasmc.data` laid out as `data` says.
fn write_object(inputs: &ObjectInputs<'_, '_>, data: DataLayout) -> Result<Vec<u8>, CompileError> {
    let ObjectInputs {
        target,
        isa_features,
        options,
        module,
        code,
        link_prefix,
    } = *inputs;
    let DataLayout {
        datas,
        bytes: data,
        align: data_align,
    } = data;
    let meta = module_metadata(module, code, datas).encode();
    let traps = metadata::encode_trap_table(&code.traps);
    let mut header = ArtifactHeader {
        format_version: metadata::FORMAT_VERSION,
        target,
        layout_hash: wasmc_abi::vmoffsets::layout_hash(),
        isa_features,
        flags: if options.epoch_interruption {
            metadata::flags::EPOCH_INTERRUPTION
        } else {
            0
        } | if options.signal_interruption {
            metadata::flags::SIGNAL_INTERRUPTION
        } else {
            0
        } | if options.consume_fuel {
            metadata::flags::FUEL
        } else {
            0
        },
        memory_reservation: MEMORY_RESERVATION,
        memory_guard: MEMORY_GUARD,
        meta_hash: metadata::Fnv64::hash(&meta),
        compiler_version: metadata::COMPILER_VERSION.to_string(),
        checksum: [0; 32],
    };
    header.checksum = metadata::checksum(&header.encode(), &meta, &traps, &data, &code.text);
    let header = header.encode();
    let image = link_prefix.map(|_| {
        obj::ImageParts {
            header: &header,
            meta: &meta,
            traps: &traps,
            data: &data,
            text_len: code.text.len() as u64,
        }
        .encode()
    });

    let format = if target.is_macho() {
        BinaryFormat::MachO
    } else {
        BinaryFormat::Elf
    };
    let arch = if target.is_aarch64() {
        Architecture::Aarch64
    } else {
        Architecture::X86_64
    };
    let mut object = Object::new(format, arch, Endianness::Little);
    let section = |object: &mut Object<'_>, name: &str, kind: SectionKind| {
        if target.is_macho() {
            let (seg, sect) = obj::macho_section(name).ok_or_else(|| {
                CompileError::codegen(None, format!("no Mach-O name for section {name}"))
            })?;
            Ok::<SectionId, CompileError>(object.add_section(
                seg.as_bytes().to_vec(),
                sect.as_bytes().to_vec(),
                kind,
            ))
        } else {
            Ok(object.add_section(Vec::new(), name.as_bytes().to_vec(), kind))
        }
    };
    let hdr = section(&mut object, obj::HEADER_SECTION, SectionKind::ReadOnlyData)?;
    object.set_section_data(hdr, header.to_vec(), 8);
    let meta_id = section(&mut object, obj::META_SECTION, SectionKind::ReadOnlyData)?;
    object.set_section_data(meta_id, meta, 8);
    let traps_id = section(&mut object, obj::TRAPS_SECTION, SectionKind::ReadOnlyData)?;
    object.set_section_data(traps_id, traps, 4);
    let data_id = section(&mut object, obj::DATA_SECTION, SectionKind::ReadOnlyData)?;
    // `COW_ALIGN` when large segments are to be mapped from the file (`lay_out_data`).
    object.set_section_data(data_id, data, data_align);
    let text = section(&mut object, obj::TEXT_SECTION, SectionKind::Text)?;
    object.set_section_data(text, code.text.clone(), target.text_align());

    for p in &code.pieces {
        object.add_symbol(Symbol {
            name: symbol_name(module, p.piece),
            value: u64::from(p.off),
            size: u64::from(p.len),
            kind: SymbolKind::Text,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
    }
    object.add_symbol(Symbol {
        name: obj::HEADER_SYMBOL.as_bytes().to_vec(),
        value: 0,
        size: metadata::HEADER_SIZE as u64,
        kind: SymbolKind::Data,
        // Two linkable artifacts in one program would clash on a global name they share.
        scope: if link_prefix.is_some() {
            SymbolScope::Compilation
        } else {
            SymbolScope::Linkage
        },
        weak: false,
        section: SymbolSection::Section(hdr),
        flags: SymbolFlags::None,
    });
    if let (Some(prefix), Some(image)) = (link_prefix, image) {
        let image_id = section(&mut object, obj::IMAGE_SECTION, SectionKind::ReadOnlyData)?;
        add_link_symbols(&mut object, prefix, text, code.text.len(), image_id, image);
        if !target.is_macho() {
            // Without this marker GNU ld gives the whole program an executable stack.
            object.add_section(Vec::new(), b".note.GNU-stack".to_vec(), SectionKind::Other);
        }
    }
    let bytes = object
        .write()
        .map_err(|e| CompileError::codegen(None, format!("writing the object: {e}")))?;
    check_self_contained(&bytes)?;
    Ok(bytes)
}

/// Adds the image section contents and the global symbols `Artifact::from_linked` needs
/// (`obj::LinkSymbols`). Hidden visibility (`SymbolScope::Linkage`): visible to the static
/// linker, not exported from a shared library.
fn add_link_symbols(
    object: &mut Object<'_>,
    prefix: &str,
    text: SectionId,
    text_len: usize,
    image_id: SectionId,
    image: Vec<u8>,
) {
    let names = obj::LinkSymbols::new(prefix);
    let image_len = image.len() as u64;
    object.set_section_data(image_id, image, 16);
    let text_len = text_len as u64;
    for (name, section, value, size, kind) in [
        (names.text, text, 0, text_len, SymbolKind::Text),
        (names.text_end, text, text_len, 0, SymbolKind::Text),
        (names.image, image_id, 0, image_len, SymbolKind::Data),
        (names.image_end, image_id, image_len, 0, SymbolKind::Data),
    ] {
        object.add_symbol(Symbol {
            name: name.into_bytes(),
            value,
            size,
            kind,
            scope: SymbolScope::Linkage,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        });
    }
}

/// Reads the object back and checks the promise the loader relies on: no relocations and
/// no undefined symbols (ARCHITECTURE.md §1). Cheap: only headers and tables are read.
fn check_self_contained(bytes: &[u8]) -> Result<(), CompileError> {
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
    let file = object::File::parse(bytes)
        .map_err(|e| CompileError::codegen(None, format!("reading the object back: {e}")))?;
    for section in file.sections() {
        if section.relocations().next().is_some() {
            return Err(CompileError::codegen(
                None,
                format!(
                    "section {} has relocations",
                    section.name().unwrap_or("<unnamed>")
                ),
            ));
        }
    }
    if let Some(sym) = file.symbols().find(|s| s.is_undefined()) {
        return Err(CompileError::codegen(
            None,
            format!("undefined symbol {}", sym.name().unwrap_or("<unnamed>")),
        ));
    }
    Ok(())
}
