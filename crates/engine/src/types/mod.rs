//! Data type operations, independent of command parsing and of the network.

pub mod blob;
pub mod buf;
pub mod hash;
pub mod hashtable;
pub mod intset;
pub mod list;
pub mod listpack;
pub mod longdouble;
pub mod set;
pub mod string;
pub mod zset;

/// The five Redis types, with Redis's type codes (OBJ_STRING = 0, ...),
/// which DEBUG DIGEST mixes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `string`
    String = 0,
    /// `list`
    List = 1,
    /// `set`
    Set = 2,
    /// `zset`
    Zset = 3,
    /// `hash`
    Hash = 4,
}

impl Type {
    /// The name TYPE prints.
    pub fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::List => "list",
            Type::Set => "set",
            Type::Zset => "zset",
            Type::Hash => "hash",
        }
    }
}

/// When collections change encoding: the `*-max-listpack-*` and
/// `set-max-intset-entries` parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `list-max-listpack-size`: > 0 elements per node, < 0 a size class
    /// (-1 = 4 KB .. -5 = 64 KB).
    pub list_max_listpack_size: i64,
    /// `hash-max-listpack-entries`
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`
    pub set_max_intset_entries: usize,
    /// `set-max-listpack-entries`
    pub set_max_listpack_entries: usize,
    /// `set-max-listpack-value`
    pub set_max_listpack_value: usize,
    /// `zset-max-listpack-entries`
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`
    pub zset_max_listpack_value: usize,
}

impl Default for Limits {
    /// Redis 7's defaults.
    fn default() -> Self {
        Limits {
            list_max_listpack_size: -2,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
        }
    }
}
