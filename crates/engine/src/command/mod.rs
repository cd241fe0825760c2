//! The command table: declarative specs, the registry built from them, key
//! extraction, argument helpers and the commands' documentation.

pub mod args;
pub mod docs;
#[rustfmt::skip]
mod docs_data;
pub mod keys;
pub mod spec;
pub mod table;

pub use spec::{BeginSearch, CommandSpec, FindKeys, Handler, KeySpec};
pub use table::{flag, Command, CommandTable};
