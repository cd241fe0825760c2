//! The ferrokv engine: the keyspace, the data types, the command table and
//! every command's implementation.
//!
//! Design decision: the engine is synchronous and does no I/O. A command is
//! a function from (state, client, arguments, logical time) to a reply in a
//! buffer plus records of what changed; sockets, timers and threads belong to
//! the server crate. That keeps every command testable without a network and
//! gives replication and the AOF one ordered stream of writes: the order in
//! which commands ran against one [`state::State`].
//!
//! It must not depend on an async runtime (`cargo tree -p ferrokv-engine`
//! shows no tokio).
#![warn(missing_docs)]

pub mod blocking;
pub mod client;
pub mod cmd;
pub mod command;
pub mod config;
pub mod ctx;
pub mod digest;
pub mod dump;
pub mod error;
pub mod evict;
pub mod exec;
pub mod expire;
pub mod glob;
pub mod info;
pub mod keyspace;
pub mod latency;
pub mod multi;
pub mod notify;
pub mod pause;
pub mod pubsub;
pub mod script;
pub mod slowlog;
pub mod state;
pub mod table;
pub mod tracking;
pub mod types;
pub mod util;

pub use client::Client;

/// The Redis version clients are told, for feature detection: ferrokv
/// implements Redis 7.0's commands and replies.
pub const REDIS_VERSION: &str = "7.0.15";

/// The process-wide command table, built once from every family's specs.
pub fn table() -> &'static command::CommandTable {
    static TABLE: std::sync::OnceLock<command::CommandTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| command::CommandTable::build(cmd::FAMILIES))
}
pub use ctx::Ctx;
pub use exec::execute;
pub use state::State;
