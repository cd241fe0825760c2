//! Cluster routing for ferrokv.
//!
//! Design decision: routing is pure arithmetic and tables with no I/O and no
//! async runtime, so the engine (which indexes its keyspace by slot) and the
//! future cluster layer (MOVED/ASK decisions, slot maps) share one definition
//! of where a key lives. Today it holds the slot function; the slot map and
//! the route decision join it with the cluster.
#![warn(missing_docs)]

pub mod slot;

pub use slot::{key_slot, SLOTS};
