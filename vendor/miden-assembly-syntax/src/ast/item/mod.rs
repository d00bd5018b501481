mod export;
mod index;
mod resolver;

pub use self::{
    export::Export,
    index::{GlobalItemIndex, ItemIndex, ModuleIndex},
    resolver::{
        LocalSymbol, LocalSymbolResolver, SymbolResolution, SymbolResolutionError, SymbolTable,
    },
};
