//! The `cmsgpack` library (lua-cmsgpack 0.4.0, as bundled with Redis):
//! MessagePack `pack` of any number of Lua values and `unpack`,
//! `unpack_one`, `unpack_limit` of a stream of them, byte for byte as
//! Redis encodes and with its errors.

use mlua::{ffi, Lua, MultiValue, Table, Value};

use super::{
    arg_error, c_double_to_i64, check_bytes, check_integer, error, exact_args, opt_integer, policy, wrap_table, Pairs,
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
    /// `luaL_checkstack`'s error: "stack overflow (<msg>)".
    Overflow(&'static str),
    /// `lua_settable`'s own error (no line to add).
    Index(&'static str),
}

/// Decodes onto Lua's stack: values are pushed as lua-cmsgpack pushes
/// them, never read as mlua values (which would pin a reference per
/// nesting level and lose numbers like 1e-300).
struct Cursor<'a> {
    l: *mut ffi::lua_State,
    s: &'a [u8],
    p: usize,
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

    /// `luaL_checkstack(L, 1, msg)` with `used` slots held in Redis's
    /// stack. Redis keeps every decoded top-level value on it; ours stores
    /// them away, so it is never fuller than Redis's and the count decides.
    fn check_stack(&self, used: usize, msg: &'static str) -> Result<(), Stop> {
        // Safety: lua_checkstack only grows the stack.
        if used + 1 > MAX_CSTACK || unsafe { ffi::lua_checkstack(self.l, 1) } == 0 {
            return Err(Stop::Overflow(msg));
        }
        Ok(())
    }

    fn string(&mut self, header: usize, len: usize) -> Result<(), Stop> {
        self.need(header + len)?;
        let b = &self.s[self.p + header..self.p + header + len];
        // Safety: a slot was checked for this value.
        unsafe { ffi::lua_pushlstring(self.l, b.as_ptr() as *const _, b.len()) };
        self.p += header + len;
        Ok(())
    }

    fn number(&mut self, v: f64, len: usize) -> Result<(), Stop> {
        self.p += len;
        // Safety: a slot was checked for this value.
        unsafe { ffi::lua_pushnumber(self.l, v) };
        Ok(())
    }

    /// `mp_decode_to_lua_type`: pushes one value; `used` counts the stack
    /// slots Redis holds.
    fn value(&mut self, used: usize) -> Result<(), Stop> {
        self.need(1)?;
        self.check_stack(used, "too many return values at once; use unpack_one or unpack_limit instead.")?;
        let tag = self.s[self.p];
        match tag {
            0xcc => {
                self.need(2)?;
                self.number(self.be(1) as f64, 2)
            }
            0xd0 => {
                self.need(2)?;
                self.number(self.be(1) as u8 as i8 as f64, 2)
            }
            0xcd => {
                self.need(3)?;
                self.number(self.be(2) as f64, 3)
            }
            0xd1 => {
                self.need(3)?;
                self.number(self.be(2) as u16 as i16 as f64, 3)
            }
            0xce => {
                self.need(5)?;
                self.number(self.be(4) as f64, 5)
            }
            0xd2 => {
                self.need(5)?;
                self.number(self.be(4) as u32 as i32 as f64, 5)
            }
            // Pushed as a signed Lua integer, so the top half wraps.
            0xcf | 0xd3 => {
                self.need(9)?;
                self.number(self.be(8) as i64 as f64, 9)
            }
            0xc0 => {
                self.p += 1;
                // Safety: a slot was checked for this value.
                unsafe { ffi::lua_pushnil(self.l) };
                Ok(())
            }
            0xc2 | 0xc3 => {
                self.p += 1;
                // Safety: as above.
                unsafe { ffi::lua_pushboolean(self.l, (tag == 0xc3) as std::os::raw::c_int) };
                Ok(())
            }
            0xca => {
                self.need(5)?;
                self.number(f32::from_bits(self.be(4) as u32) as f64, 5)
            }
            0xcb => {
                self.need(9)?;
                self.number(f64::from_bits(self.be(8)), 9)
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
            t if t & 0x80 == 0 => self.number(t as f64, 1),
            t if t & 0xe0 == 0xe0 => self.number(t as i8 as f64, 1),
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

    fn array(&mut self, len: usize, used: usize) -> Result<(), Stop> {
        // Safety: the slot checked for this value.
        unsafe { ffi::lua_newtable(self.l) };
        self.check_stack(used + 1, "in function mp_decode_to_lua_array")?;
        for i in 1..=len {
            self.value(used + 2)?;
            // Safety: table and value are the top two slots.
            unsafe { ffi::lua_rawseti(self.l, -2, (i as std::os::raw::c_int).into()) };
        }
        Ok(())
    }

    fn map(&mut self, len: usize, used: usize) -> Result<(), Stop> {
        // Safety: the slot checked for this value.
        unsafe { ffi::lua_newtable(self.l) };
        for _ in 0..len {
            self.value(used + 1)?;
            self.value(used + 2)?;
            // Safety: table, key and value are the top three slots; the
            // keys lua_settable would refuse are refused first.
            unsafe {
                if ffi::lua_isnil(self.l, -2) != 0 {
                    return Err(Stop::Index("table index is nil"));
                }
                if ffi::lua_type(self.l, -2) == ffi::LUA_TNUMBER && ffi::lua_tonumber(self.l, -2).is_nan() {
                    return Err(Stop::Index("table index is NaN"));
                }
                ffi::lua_rawset(self.l, -3);
            }
        }
        Ok(())
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
    let results = lua.create_table()?;
    // The next offset comes first; its place is kept.
    let first = if decode_all { 1 } else { 2 };
    let mut stop = None;
    let mut cnt = 0;
    let mut next_offset = 0;
    // Safety: the closure decodes above `results` (stack index 1), storing
    // each top-level value in it, and leaves the stack empty.
    unsafe {
        lua.exec_raw::<()>(&results, |l| {
            let mut c = Cursor { l, s: &s, p: offset as usize };
            while c.p < s.len() && cnt < limit {
                // Redis keeps each decoded value on its stack.
                let top = base + cnt as usize;
                if let Err(e) = c.value(top) {
                    stop = Some(e);
                    break;
                }
                ffi::lua_rawseti(l, 1, (first + cnt as std::os::raw::c_int).into());
                cnt += 1;
            }
            if stop.is_none() && !decode_all {
                match c.check_stack(base + cnt as usize, "in function mp_unpack_full") {
                    Ok(()) => next_offset = if c.p == s.len() { -1 } else { c.p as i64 },
                    Err(e) => stop = Some(e),
                }
            }
            ffi::lua_settop(l, 0);
        })?;
    }
    match stop {
        Some(Stop::Eof) => Err(error(lua, "Missing bytes in input.")),
        Some(Stop::BadFormat) => Err(error(lua, "Bad data format in input.")),
        Some(Stop::Overflow(msg)) => Err(error(lua, format!("stack overflow ({msg})"))),
        Some(Stop::Index(msg)) => Err(super::super::raise(lua, msg)),
        None if decode_all => Ok((results, cnt as usize)),
        None => {
            results.raw_set(1, next_offset)?;
            Ok((results, first as usize + cnt as usize - 1))
        }
    }
}
