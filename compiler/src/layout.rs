//! Compiles every piece of code of a module and lays them out in one `.text` blob.
//!
//! Pieces, in label order (the order of `.text`): defined functions, import stubs, entry
//! trampolines (escaped functions), wasm-to-host trampolines (one per type). They are
//! compiled in parallel (`std::thread::scope`), then appended serially to Cranelift's
//! `TextSectionBuilder`. Each piece's relocations (calls to defined functions and import
//! stubs, all colocated) are resolved right after it is appended: a forward reference that is
//! already out of range would otherwise hit an assertion in `MachBuffer` (DESIGN.md §12). An
//! unresolvable relocation is a `Codegen` error; the text never needs patching at load time.
//!
//! Each worker polls the [`CompileControl`] cancel flag before each piece and reports every
//! compiled function to its progress callback.

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::ExternalName;
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::FunctionBuilderContext;
use wasmc_abi::TrapCode;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::CompileError;
use crate::control::CompileControl;
use crate::environ::{FunctionBodyInput, ModuleInfo};
use crate::trampolines;
use crate::translate::{self, CodegenOptions, names, traps::abi_trap};

/// One piece of `.text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A defined function, by function index.
    Func(u32),
    /// The import stub of an imported function, by function index.
    ImportStub(u32),
    /// The entry trampoline of a defined function, by function index.
    Entry(u32),
    /// The wasm-to-host trampoline of a type, by type index.
    ToHost(u32),
}

impl Piece {
    /// The function index this piece belongs to, for error messages.
    fn func_index(self) -> Option<u32> {
        match self {
            Piece::Func(f) | Piece::ImportStub(f) | Piece::Entry(f) => Some(f),
            Piece::ToHost(_) => None,
        }
    }
}

/// A compiled piece, before layout.
struct CompiledPiece {
    bytes: Vec<u8>,
    align: u32,
    /// `(offset in the piece, kind, addend, namespace, index)`.
    relocs: Vec<(u32, Reloc, i64, u32, u32)>,
    /// `(offset in the piece, code)`.
    traps: Vec<(u32, TrapCode)>,
}

/// Where a piece ended up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    pub piece: Piece,
    pub off: u32,
    pub len: u32,
}

/// The laid-out code of a module.
pub(crate) struct Code {
    /// The `.text` bytes.
    pub text: Vec<u8>,
    /// Every piece, in text order.
    pub pieces: Vec<Placed>,
    /// Trap records, sorted by text offset.
    pub traps: Vec<(u32, TrapCode)>,
}

enum Job<'a> {
    Func(u32, FunctionBodyInput<'a>),
    Other(Piece),
}

fn compile_job(
    isa: &dyn TargetIsa,
    options: CodegenOptions,
    module: &ModuleInfo<'_>,
    job: Job<'_>,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<CompiledPiece, CompileError> {
    ctx.clear();
    let piece = match job {
        Job::Func(f, body) => {
            if let Err(e) =
                translate::translate_function(isa, options, module, f, body, &mut ctx.func, fctx)
            {
                // The builder context is left mid-function; the next job needs a clean one.
                *fctx = FunctionBuilderContext::new();
                return Err(e);
            }
            Piece::Func(f)
        }
        Job::Other(piece) => {
            match piece {
                Piece::ImportStub(f) => {
                    trampolines::import_stub(isa, module, f, &mut ctx.func, fctx)?
                }
                Piece::Entry(f) => {
                    trampolines::entry_trampoline(isa, module, f, &mut ctx.func, fctx)?
                }
                Piece::ToHost(t) => {
                    trampolines::host_trampoline(isa, module, t, &mut ctx.func, fctx)?
                }
                Piece::Func(_) => {
                    return Err(CompileError::codegen(None, "function job without a body"));
                }
            }
            piece
        }
    };
    let func_index = piece.func_index();
    let user_names = ctx.func.params.user_named_funcs().clone();
    let code = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| {
            CompileError::codegen(
                func_index,
                cranelift_codegen::print_errors::pretty_error(e.func, e.inner),
            )
        })?;
    let buffer = &code.buffer;
    let mut relocs = Vec::with_capacity(buffer.relocs().len());
    for r in buffer.relocs() {
        let FinalizedRelocTarget::ExternalName(ExternalName::User(name)) = &r.target else {
            return Err(CompileError::codegen(
                func_index,
                format!("unexpected relocation target {:?} ({:?})", r.target, piece),
            ));
        };
        let name = user_names.get(*name).ok_or_else(|| {
            CompileError::codegen(func_index, "relocation against an undeclared name")
        })?;
        relocs.push((r.offset, r.kind, r.addend, name.namespace, name.index));
    }
    let mut traps = Vec::with_capacity(buffer.traps().len());
    for t in buffer.traps() {
        let code = abi_trap(t.code).ok_or_else(|| {
            CompileError::codegen(func_index, format!("unknown trap code {}", t.code))
        })?;
        traps.push((t.offset, code));
    }
    Ok(CompiledPiece {
        bytes: buffer.data().to_vec(),
        align: buffer.alignment,
        relocs,
        traps,
    })
}

/// Compiles all of `module`'s code (`bodies` are its function bodies) and lays it out,
/// polling `control`'s cancel flag before each piece and reporting each compiled function
/// to its progress callback.
pub(crate) fn compile_all_with(
    isa: &dyn TargetIsa,
    options: CodegenOptions,
    module: &ModuleInfo<'_>,
    bodies: Vec<FunctionBodyInput<'_>>,
    control: &CompileControl,
) -> Result<Code, CompileError> {
    control.check()?;
    let imported = module.num_imported_funcs;
    let mut jobs: Vec<(usize, Job<'_>)> = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let f = imported + u32::try_from(i).unwrap_or(u32::MAX);
        jobs.push((jobs.len(), Job::Func(f, body)));
    }
    let defined = jobs.len();
    let mut pieces: Vec<Piece> = (0..defined)
        .map(|i| Piece::Func(imported + u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let mut others = Vec::new();
    others.extend((0..imported).map(Piece::ImportStub));
    others.extend(module.escaped_funcs.iter().map(|f| Piece::Entry(*f)));
    others.extend((0..u32::try_from(module.types.len()).unwrap_or(0)).map(Piece::ToHost));
    for p in others {
        pieces.push(p);
        jobs.push((jobs.len(), Job::Other(p)));
    }

    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .max(1);
    let mut buckets: Vec<Vec<(usize, Job<'_>)>> = (0..threads).map(|_| Vec::new()).collect();
    for (n, job) in jobs.into_iter().enumerate() {
        buckets[n % threads].push(job);
    }
    let funcs_done = &AtomicUsize::new(0);
    let mut compiled: Vec<Option<Result<CompiledPiece, CompileError>>> =
        (0..pieces.len()).map(|_| None).collect();
    let results: Vec<Vec<(usize, Result<CompiledPiece, CompileError>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = buckets
            .into_iter()
            .map(|bucket| {
                s.spawn(move || {
                    let mut ctx = Context::new();
                    let mut fctx = FunctionBuilderContext::new();
                    let mut out = Vec::with_capacity(bucket.len());
                    for (i, job) in bucket {
                        if control.is_cancelled() {
                            // Stop this worker; the missing pieces are never looked at.
                            out.push((i, Err(CompileError::Cancelled)));
                            break;
                        }
                        let is_func = matches!(job, Job::Func(..));
                        let r = compile_job(isa, options, module, job, &mut ctx, &mut fctx);
                        if is_func && r.is_ok() {
                            let d = funcs_done.fetch_add(1, Ordering::Relaxed) + 1;
                            control.report(d, defined);
                        }
                        out.push((i, r));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![(
                        usize::MAX,
                        Err(CompileError::codegen(None, "a compilation thread panicked")),
                    )]
                })
            })
            .collect()
    });
    for (i, r) in results.into_iter().flatten() {
        match compiled.get_mut(i) {
            Some(slot) => *slot = Some(r),
            None => {
                return Err(r.err().unwrap_or_else(|| {
                    CompileError::codegen(None, "a compilation thread lost its results")
                }));
            }
        }
    }
    control.check()?;
    // Report the first error in module order, so the message does not depend on threads.
    let mut done = Vec::with_capacity(pieces.len());
    for c in compiled {
        done.push(c.ok_or_else(|| CompileError::codegen(None, "a piece was not compiled"))??);
    }

    let label = |namespace: u32, index: u32| -> Option<usize> {
        match namespace {
            names::DEFINED_FUNC => index
                .checked_sub(imported)
                .map(|d| d as usize)
                .filter(|d| *d < defined),
            names::IMPORT_STUB => (index < imported).then(|| defined + index as usize),
            _ => None,
        }
    };
    let mut builder = isa.text_section_builder(pieces.len());
    let mut ctrl = ControlPlane::default();
    let preferred = isa.function_alignment().preferred;
    let mut placed = Vec::with_capacity(pieces.len());
    let mut traps = Vec::new();
    for (piece, c) in pieces.iter().zip(&done) {
        let off = builder.append(true, &c.bytes, c.align.max(preferred), &mut ctrl);
        let off32 = u32::try_from(off)
            .map_err(|_| CompileError::codegen(None, "the code is larger than 4 GiB"))?;
        for &(at, kind, addend, namespace, index) in &c.relocs {
            let target = label(namespace, index).ok_or_else(|| {
                CompileError::codegen(
                    piece.func_index(),
                    format!("relocation against unknown function {namespace}:{index}"),
                )
            })?;
            if !builder.resolve_reloc(off + u64::from(at), kind, addend, target) {
                return Err(CompileError::codegen(
                    piece.func_index(),
                    format!("cannot resolve a {kind:?} relocation (addend {addend})"),
                ));
            }
        }
        traps.extend(c.traps.iter().map(|(o, code)| (off32 + o, *code)));
        placed.push(Placed {
            piece: *piece,
            off: off32,
            len: u32::try_from(c.bytes.len()).unwrap_or(u32::MAX),
        });
    }
    let text = builder.finish(&mut ctrl);
    if u32::try_from(text.len()).is_err() {
        return Err(CompileError::codegen(None, "the code is larger than 4 GiB"));
    }
    traps.sort_by_key(|(o, _)| *o);
    Ok(Code {
        text,
        pieces: placed,
        traps,
    })
}
