//! The `cmsgpack` library (lua-cmsgpack 0.4.0, as bundled with Redis):
//! MessagePack `pack` of any number of Lua values and `unpack`,
//! `unpack_one`, `unpack_limit` of a stream of them, byte for byte as
//! Redis encodes and with its errors.

use mlua::{Lua, MultiValue, Table, Value};

use super::{
    arg_error, c_double_to_i64, check_bytes, check_integer, error, exact_args, opt_integer, policy, wrap_table, Pairs,
    Results, REF_BUDGET,
};

/// Tables nested deeper than this encode as nil (`LUACMSGPACK_MAX_NESTING`),
/// which also ends self-referencing tables.
const MAX_NESTING: usize = 16;

/// Slots a C function may use on the Lua stack (`LUAI_MAXCSTACK`).
const MAX_CSTACK: usize = 8000;

/// The `cmsgpack` module table.
pub fn cmsgpack(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "pack",
        lua.create_function(|lua, mut args: MultiValue| {
            exact_args(lua, &mut args);
            if args.is_empty() {
                return Err(arg_error(lua, 0, "MessagePack pack needs input."));
            }
            if args.len() * 2 > MAX_CSTACK {
                return Err(arg_error(lua, 0, "Too many arguments for MessagePack pack."));
            }
            let mut out = Vec::new();
            for v in args.iter() {
                encode(lua, v, 0, &mut out)?;
            }
            lua.create_string(&out)
        })?,
    )?;
    let unpack_all = lua.create_function(|lua, args: MultiValue| unpack(lua, &args, args.len(), 0, 0))?;
    t.set("unpack", unpack_all)?;
    let unpack_one = lua.create_function(|lua, args: MultiValue| {
        let offset = opt_integer(lua, &args, 2, 0)?;
        unpack(lua, &args, 1, 1, offset)
    })?;
    t.set("unpack_one", unpack_one)?;
    let unpack_limit = lua.create_function(|lua, args: MultiValue| {
        let limit = check_integer(lua, &args, 2)?;
        let offset = opt_integer(lua, &args, 3, 0)?;
        unpack(lua, &args, 1, limit, offset)
    })?;
    t.set("unpack_limit", unpack_limit)?;
    // unpack_one and unpack_limit drop their arguments past the second and
    // third (mp_unpack_one's lua_pop), so none pins a reference.
    let spread = policy::SPREAD | policy::NAMED | policy::TRUNCATE;
    let (one, limit) = (spread | policy::keep(2), spread | policy::keep(3));
    wrap_table(lua, &t, &[("unpack", spread), ("unpack_one", one), ("unpack_limit", limit)])?;
    t.set("_NAME", "cmsgpack")?;
    t.set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

fn push_be(out: &mut Vec<u8>, tag: u8, v: u64, bytes: usize) {
    out.push(tag);
    out.extend_from_slice(&v.to_be_bytes()[8 - bytes..]);
}

/// `mp_encode_lua_type`.
fn encode(lua: &Lua, v: &Value, level: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    match v {
        Value::String(s) => {
            let s = s.as_bytes();
            let n = s.len();
            match n {
                0..=31 => out.push(0xa0 | n as u8),
                32..=0xff => push_be(out, 0xd9, n as u64, 1),
                0x100..=0xffff => push_be(out, 0xda, n as u64, 2),
                _ => push_be(out, 0xdb, n as u64 & 0xffff_ffff, 4),
            }
            out.extend_from_slice(&s);
        }
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(*i as f64, out),
        Value::Number(n) => encode_number(*n, out),
        Value::Table(t) if level < MAX_NESTING => {
            // Walked, never collected: each Value held pins a reference.
            if is_array(t)? {
                let len = t.raw_len();
                encode_len(out, len as u64, 0x90, 0xdc, 0xdd);
                for j in 1..=len {
                    let item = match t.get::<Value>(j)? {
                        Value::Integer(0) => Value::Number(t.get::<f64>(j)?),
                        v => v,
                    };
                    encode(lua, &item, level + 1, out)?;
                }
            } else {
                let pairs = Pairs::new(lua, t)?;
                encode_len(out, pairs.len() as u64, 0x80, 0xde, 0xdf);
                for kv in pairs {
                    let (k, item) = kv?;
                    encode(lua, &k, level + 1, out)?;
                    encode(lua, &item, level + 1, out)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

/// An array or map header: fix form up to 15, then 16 or 32 bits.
fn encode_len(out: &mut Vec<u8>, n: u64, fix: u8, tag16: u8, tag32: u8) {
    match n {
        0..=15 => out.push(fix | n as u8),
        16..=0xffff => push_be(out, tag16, n, 2),
        _ => push_be(out, tag32, n & 0xffff_ffff, 4),
    }
}

/// `table_is_an_array`: keys exactly 1..N (an empty table is an array).
fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0i64, 0i64);
    for kv in t.clone().pairs::<Value, Value>() {
        let n = match kv?.0 {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        // IS_INT_EQUIVALENT: the C int cast gives the number back.
        let as_int = super::c_double_to_i32(n);
        if n <= 0.0 || n.is_infinite() || as_int as f64 != n {
            return Ok(false);
        }
        max = max.max(as_int as i64);
        count += 1;
    }
    Ok(max == count)
}

/// `mp_encode_lua_number`: integral values as the smallest integer form,
/// others as a float when that loses nothing, else a double.
fn encode_number(n: f64, out: &mut Vec<u8>) {
    if !n.is_infinite() && c_double_to_i64(n) as f64 == n {
        let i = c_double_to_i64(n);
        match i {
            0..=127 => out.push(i as u8),
            128..=0xff => push_be(out, 0xcc, i as u64, 1),
            0x100..=0xffff => push_be(out, 0xcd, i as u64, 2),
            0x1_0000..=0xffff_ffff => push_be(out, 0xce, i as u64, 4),
            0x1_0000_0000.. => push_be(out, 0xcf, i as u64, 8),
            -32..=-1 => out.push(i as i8 as u8),
            -128..=-33 => push_be(out, 0xd0, i as u64, 1),
            -32768..=-129 => push_be(out, 0xd1, i as u64, 2),
            -2_147_483_648..=-32769 => push_be(out, 0xd2, i as u64, 4),
            _ => push_be(out, 0xd3, i as u64, 8),
        }
    } else if n == n as f32 as f64 {
        push_be(out, 0xca, (n as f32).to_bits() as u64, 4);
    } else {
        push_be(out, 0xcb, n.to_bits(), 8);
    }
}

/// Why decoding stopped.
enum Stop {
    /// `Missing bytes in input.`
    Eof,
    /// `Bad data format in input.`
    BadFormat,
    /// A Lua error (stack overflow, a nil or NaN map key).
    Lua(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Stop {
        Stop::Lua(e)
    }
}

struct Cursor<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    p: usize,
    /// Stack slots in use when the current top-level value started.
    top: usize,
    /// References the call's arguments hold.
    pinned: usize,
}

impl Cursor<'_> {
    fn need(&self, n: usize) -> Result<(), Stop> {
        if self.s.len() - self.p < n {
            return Err(Stop::Eof);
        }
        Ok(())
    }

    /// The big-endian integer in the `n` bytes after the type byte.
    fn be(&self, n: usize) -> u64 {
        self.s[self.p + 1..self.p + 1 + n].iter().fold(0u64, |acc, &b| acc << 8 | b as u64)
    }

    /// `luaL_checkstack(L, 1, msg)` with `used` slots held.
    fn check_stack(&self, used: usize, msg: &str) -> Result<(), Stop> {
        // The slots a nested value uses (`used` past `top`) also bound the
        // references it holds (decoded values go to a table at once).
        if used + 1 > MAX_CSTACK || used - self.top + self.pinned > REF_BUDGET {
            return Err(Stop::Lua(error(self.lua, format!("stack overflow ({msg})"))));
        }
        Ok(())
    }

    fn string(&mut self, header: usize, len: usize) -> Result<Value, Stop> {
        self.need(header + len)?;
        let v = self.lua.create_string(&self.s[self.p + header..self.p + header + len])?;
        self.p += header + len;
        Ok(Value::String(v))
    }

    /// `mp_decode_to_lua_type`; `used` counts the stack slots held.
    fn value(&mut self, used: usize) -> Result<Value, Stop> {
        self.need(1)?;
        self.check_stack(used, "too many return values at once; use unpack_one or unpack_limit instead.")?;
        let tag = self.s[self.p];
        let num = |v: f64, len: usize, c: &mut Self| -> Result<Value, Stop> {
            c.p += len;
            Ok(Value::Number(v))
        };
        match tag {
            0xcc => {
                self.need(2)?;
                num(self.be(1) as f64, 2, self)
            }
            0xd0 => {
                self.need(2)?;
                num(self.be(1) as u8 as i8 as f64, 2, self)
            }
            0xcd => {
                self.need(3)?;
                num(self.be(2) as f64, 3, self)
            }
            0xd1 => {
                self.need(3)?;
                num(self.be(2) as u16 as i16 as f64, 3, self)
            }
            0xce => {
                self.need(5)?;
                num(self.be(4) as f64, 5, self)
            }
            0xd2 => {
                self.need(5)?;
                num(self.be(4) as u32 as i32 as f64, 5, self)
            }
            // Pushed as a signed Lua integer, so the top half wraps.
            0xcf | 0xd3 => {
                self.need(9)?;
                num(self.be(8) as i64 as f64, 9, self)
            }
            0xc0 => {
                self.p += 1;
                Ok(Value::Nil)
            }
            0xc2 | 0xc3 => {
                self.p += 1;
                Ok(Value::Boolean(tag == 0xc3))
            }
            0xca => {
                self.need(5)?;
                num(f32::from_bits(self.be(4) as u32) as f64, 5, self)
            }
            0xcb => {
                self.need(9)?;
                num(f64::from_bits(self.be(8)), 9, self)
            }
            0xd9 => {
                self.need(2)?;
                let l = self.be(1) as usize;
                self.string(2, l)
            }
            0xda => {
                self.need(3)?;
                let l = self.be(2) as usize;
                self.string(3, l)
            }
            0xdb => {
                self.need(5)?;
                let l = self.be(4) as usize;
                self.string(5, l)
            }
            0xdc..=0xdf => {
                let n = if tag & 1 == 0 { 2 } else { 4 };
                self.need(1 + n)?;
                let l = self.be(n) as usize;
                self.p += 1 + n;
                if tag < 0xde {
                    self.array(l, used)
                } else {
                    self.map(l, used)
                }
            }
            t if t & 0x80 == 0 => num(t as f64, 1, self),
            t if t & 0xe0 == 0xe0 => num(t as i8 as f64, 1, self),
            t if t & 0xe0 == 0xa0 => self.string(1, (t & 0x1f) as usize),
            t if t & 0xf0 == 0x90 => {
                self.p += 1;
                self.array((t & 0xf) as usize, used)
            }
            t if t & 0xf0 == 0x80 => {
                self.p += 1;
                self.map((t & 0xf) as usize, used)
            }
            _ => Err(Stop::BadFormat),
        }
    }

    fn array(&mut self, len: usize, used: usize) -> Result<Value, Stop> {
        let t = self.lua.create_table()?;
        self.check_stack(used + 1, "in function mp_decode_to_lua_array")?;
        for i in 1..=len {
            let v = self.value(used + 2)?;
            t.raw_set(i, v)?;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, len: usize, used: usize) -> Result<Value, Stop> {
        let t = self.lua.create_table()?;
        for _ in 0..len {
            let k = self.value(used + 1)?;
            let v = self.value(used + 2)?;
            // lua_settable's own errors: the C function has no line to add.
            match k {
                Value::Nil => return Err(Stop::Lua(super::super::raise(self.lua, "table index is nil"))),
                Value::Number(n) if n.is_nan() => {
                    return Err(Stop::Lua(super::super::raise(self.lua, "table index is NaN")))
                }
                k => t.raw_set(k, v)?,
            }
        }
        Ok(Value::Table(t))
    }
}

/// `mp_unpack_full`: `base` is how many arguments stay on the stack;
/// `limit` and `offset` both 0 decode everything and return no offset.
fn unpack(lua: &Lua, args: &MultiValue, base: usize, limit: i64, offset: i64) -> mlua::Result<(Table, usize)> {
    let s = check_bytes(lua, args, 1)?;
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(error(
            lua,
            format!("Invalid request to unpack with offset of {} and limit of {}.", offset as i32, s.len() as i32),
        ));
    }
    if offset as u64 > s.len() as u64 {
        return Err(error(
            lua,
            format!("Start offset {} greater than input length {}.", offset as i32, s.len() as i32),
        ));
    }
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    // Arguments past the data that are objects hold references for the
    // whole call.
    let pinned = args
        .iter()
        .skip(1)
        .filter(|a| !matches!(a, Value::Nil | Value::Boolean(_) | Value::Integer(_) | Value::Number(_)))
        .count();
    let mut c = Cursor { lua, s: &s, p: offset as usize, top: base, pinned };
    let mut out = Results::new(lua)?;
    // The next offset comes first; its place is kept.
    let first = if decode_all { 1 } else { 2 };
    let mut cnt = 0;
    while c.p < s.len() && cnt < limit {
        c.top = base + cnt as usize;
        match c.value(c.top) {
            Ok(v) => out.set(first + cnt as usize, v)?,
            Err(Stop::Eof) => return Err(error(lua, "Missing bytes in input.")),
            Err(Stop::BadFormat) => return Err(error(lua, "Bad data format in input.")),
            Err(Stop::Lua(e)) => return Err(e),
        }
        cnt += 1;
    }
    if !decode_all {
        c.top = base + cnt as usize;
        if let Err(Stop::Lua(e)) = c.check_stack(c.top, "in function mp_unpack_full") {
            return Err(e);
        }
        let next = if c.p == s.len() { -1 } else { c.p as i64 };
        out.set(1, next)?;
    }
    Ok(out.into_return())
}
