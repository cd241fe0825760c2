//! The command table: declarative specs, the registry built from them, key
//! extraction and argument helpers.

pub mod args;
pub mod keys;
pub mod spec;
pub mod table;

pub use spec::{BeginSearch, CommandSpec, Doc, FindKeys, Handler, KeySpec};
pub use table::{flag, Command, CommandTable};
