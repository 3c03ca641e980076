//! `global.get` and `global.set`. A defined global lives in the vmctx, an imported one
//! behind its `VMGlobalImport` (ARCHITECTURE.md §6); the value sits at offset 0.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData};
use wasmparser::Operator;

use super::{FuncTranslator, ir_type, vmctx};
use crate::CompileError;

impl FuncTranslator<'_, '_> {
    /// Translates `global.get`/`global.set`; `false` for any other operator.
    pub(super) fn translate_global(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        match *op {
            Operator::GlobalGet { global_index } => {
                let g = *self
                    .module
                    .globals
                    .get(global_index as usize)
                    .ok_or_else(|| self.bug(format!("global {global_index} out of range")))?;
                let place =
                    vmctx::global_place(&mut self.builder, self.module, self.vmctx, global_index);
                // An immutable global never changes once instantiation wrote it.
                let flags: MemFlagsData = vmctx::trusted(!g.mutable);
                let v = self
                    .builder
                    .ins()
                    .load(ir_type(g.ty), flags, place.ptr, place.offset);
                self.stack.push(v);
            }
            Operator::GlobalSet { global_index } => {
                let v = self.pop()?;
                let place =
                    vmctx::global_place(&mut self.builder, self.module, self.vmctx, global_index);
                self.builder
                    .ins()
                    .store(vmctx::trusted(false), v, place.ptr, place.offset);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
