#![no_std]

#[macro_use]
extern crate alloc;

#[cfg(any(test, feature = "std"))]
extern crate std;

pub use miden_core::{
    Felt, Word,
    field::{PrimeCharacteristicRing, PrimeField64},
    prettier,
    utils::DisplayHex,
};
pub use miden_debug_types as debuginfo;
pub use miden_utils_diagnostics::{self as diagnostics, Report};
pub use semver;

#[cfg(feature = "arbitrary")]
pub mod arbitrary;
pub mod ast;
pub mod library;
mod parse;
pub mod parser;
pub mod sema;
pub mod testing;

#[doc(hidden)]
pub use self::{
    ast::{Path, PathBuf, PathComponent, PathError},
    library::{KernelLibrary, Library, LibraryError, Version, VersionError},
    parser::{ModuleParser, ParsingError},
};
pub use self::{
    parse::{Parse, ParseOptions},
    sema::SemanticAnalysisError,
};

/// Maximum allowed iteration count for `repeat.<count>` blocks.
pub const MAX_REPEAT_COUNT: u32 = 1_000_000;

/// The modulus of the Miden field as a raw u64 integer
pub(crate) const FIELD_MODULUS: u64 = Felt::ORDER_U64;
