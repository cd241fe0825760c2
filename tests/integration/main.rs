//! Integration tests: the real ferrokv-server binary on an ephemeral port,
//! driven over raw RESP, with the `redis` crate, redis-cli and redis-py.

mod clients;
mod commands;
mod datatypes;
mod expiry;
mod protocol;
mod pubsub;
mod scripting;
mod server;
mod tracking;
mod transactions;
