//! Differential tests: the same commands sent to ferrokv and to the oracle
//! redis-server (Debian's 7.0), replies compared.

mod collections;
mod command_table;
mod functions;
mod lfu;
mod lua_libs;
mod notifications;
mod scripts;
mod snapshots;
mod strings_keys;
mod tracking;
mod transactions;
