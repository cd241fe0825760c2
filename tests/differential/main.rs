//! Differential tests: the same commands sent to ferrokv and to the oracle
//! redis-server (Debian's 7.0), replies compared.

mod collections;
mod command_table;
mod config;
mod functions;
mod latency;
mod lfu;
mod lua_libs;
mod notifications;
mod scripts;
mod snapshots;
mod strings_keys;
mod tracking;
mod transactions;

use proptest::prelude::*;

/// A generated command of any family: strings and keys, collections, a
/// script running one, or a transaction step.
fn any_cmd() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        4 => strings_keys::cmd(),
        4 => collections::cmd(),
        1 => scripts::scripted(),
        1 => transactions::tx_cmd(),
    ]
}
