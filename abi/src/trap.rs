//! Trap codes: the byte stored in the artifact's trap table, and the text a user sees.
//!
//! The compiler maps each code to a Cranelift `TrapCode` (Cranelift's own codes for stack
//! overflow, heap out of bounds, integer overflow, division by zero and bad conversion;
//! `TrapCode::user(byte)` for the others) in one function, `compiler/src/translate/traps.rs`;
//! the loader decodes the byte. The texts match the WebAssembly spec test suite's expectations.
//! Keep the list, `from_u8` and `message` in sync; a change bumps the format version.

/// Why a Wasm computation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TrapCode {
    /// The Wasm stack limit was reached (deep or infinite recursion).
    StackOverflow = 1,
    /// A load or store, or a bulk memory operation, outside a linear memory.
    MemoryOutOfBounds = 2,
    /// An atomic access that was not naturally aligned.
    HeapMisaligned = 3,
    /// `table.get`/`table.set`/bulk table operation outside a table.
    TableOutOfBounds = 4,
    /// `call_indirect` with an index past the end of the table.
    UndefinedElement = 5,
    /// `call_indirect` to a null table entry.
    IndirectCallToNull = 6,
    /// `call_indirect` whose callee has another signature.
    BadSignature = 7,
    /// Signed integer overflow (`i32.div_s` of `INT_MIN / -1`, float-to-int out of range).
    IntegerOverflow = 8,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 9,
    /// Float-to-int conversion of a NaN.
    BadConversionToInteger = 10,
    /// The `unreachable` instruction.
    UnreachableCodeReached = 11,
    /// The run was interrupted (deadline, epoch, cancellation).
    Interrupt = 12,
    /// Fuel ran out.
    OutOfFuel = 13,
    /// A reference that must not be null was null.
    NullReference = 14,
    /// Placeholder raised by compiled code after a builtin or host function reported
    /// failure; the real reason was recorded by the loader before returning to Wasm.
    HostTrap = 15,
}

impl TrapCode {
    /// Every trap code, in numeric order.
    pub const ALL: [TrapCode; 15] = [
        TrapCode::StackOverflow,
        TrapCode::MemoryOutOfBounds,
        TrapCode::HeapMisaligned,
        TrapCode::TableOutOfBounds,
        TrapCode::UndefinedElement,
        TrapCode::IndirectCallToNull,
        TrapCode::BadSignature,
        TrapCode::IntegerOverflow,
        TrapCode::IntegerDivisionByZero,
        TrapCode::BadConversionToInteger,
        TrapCode::UnreachableCodeReached,
        TrapCode::Interrupt,
        TrapCode::OutOfFuel,
        TrapCode::NullReference,
        TrapCode::HostTrap,
    ];

    /// Decodes a trap-table byte.
    pub fn from_u8(b: u8) -> Option<TrapCode> {
        TrapCode::ALL.get(usize::from(b).checked_sub(1)?).copied()
    }

    /// The text of this trap, as the spec test suite expects it.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::HeapMisaligned => "unaligned atomic",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::IndirectCallToNull => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::UnreachableCodeReached => "unreachable",
            TrapCode::Interrupt => "interrupted",
            TrapCode::OutOfFuel => "all fuel consumed",
            TrapCode::NullReference => "null reference",
            TrapCode::HostTrap => "host function or builtin failed",
        }
    }
}

impl core::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_encoding_round_trips() {
        for code in TrapCode::ALL {
            assert_eq!(TrapCode::from_u8(code as u8), Some(code));
        }
        assert_eq!(TrapCode::from_u8(0), None);
        assert_eq!(TrapCode::from_u8(TrapCode::ALL.len() as u8 + 1), None);
    }
}
