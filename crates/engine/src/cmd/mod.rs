//! Command families: each module holds its `SPECS` and the handlers they
//! name. The table is the union of these lists.

pub mod bitmap;
pub mod conn;
pub mod debug;
pub mod hash;
pub mod introspect;
pub mod keys;
mod latency;
pub mod list;
pub mod multi;
mod pubsub;
mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod string;
pub mod zset;

use crate::command::CommandSpec;
use crate::error::CmdError;

/// The reply to a container command's unknown subcommand or wrong argument
/// count (Redis's `addReplySubcommandSyntaxError`: the subcommand as given,
/// at most 128 bytes, and the container upper-cased).
pub fn subcommand_syntax(argv: &[&[u8]]) -> CmdError {
    let sub = String::from_utf8_lossy(&argv[1][..argv[1].len().min(128)]).into_owned();
    let container = String::from_utf8_lossy(argv[0]).to_ascii_uppercase();
    CmdError::err(format_args!("unknown subcommand or wrong number of arguments for '{sub}'. Try {container} HELP."))
}

/// Every family's specs, in table order.
pub static FAMILIES: &[&[CommandSpec]] = &[
    string::SPECS,
    bitmap::SPECS,
    hash::SPECS,
    list::SPECS,
    set::SPECS,
    zset::SPECS,
    keys::SPECS,
    sort::SPECS,
    pubsub::SPECS,
    multi::SPECS,
    conn::SPECS,
    server::SPECS,
    introspect::SPECS,
    latency::SPECS,
    debug::SPECS,
    scripting::SPECS,
];
