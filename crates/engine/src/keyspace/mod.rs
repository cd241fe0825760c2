//! The keyspace: databases of slot-indexed tables of compact entries.

pub mod access;
pub mod db;
pub mod entry;

pub use db::{Db, Loc};
pub use entry::{Entry, Kind, Object, StrEnc, Value};

/// The keyspace hash (the same function collections use).
pub use crate::table::hash_bytes as hash_key;
