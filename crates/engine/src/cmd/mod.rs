//! Command families: each module holds its `SPECS` and the handlers they
//! name. The table is the union of these lists.

pub mod bitmap;
pub mod conn;
pub mod debug;
pub mod hash;
pub mod introspect;
pub mod keys;
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
    debug::SPECS,
    scripting::SPECS,
];
