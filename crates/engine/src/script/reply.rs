//! A script's return value as a RESP reply (Redis's `luaReplyToRedisReply`).
//!
//! The value is read straight off Lua's stack through the C API, pushing
//! and popping what Redis pushes and pops, rather than through mlua's
//! values: nothing is pinned per level or per element (a reply may have
//! millions), table keys such as -0 and 1e-20 are walked exactly by
//! `lua_next`, and a reply nested too deeply for Lua's stack ends in
//! Redis's "reached lua stack limit" at the same depth as in Redis.

use std::os::raw::c_int;

use ferrokv_resp::{Out, Protocol};
use mlua::{ffi, Lua, Value};

use super::libs::c_double_to_i64;

/// Stack slots Redis has in use below the reply when it converts it (the
/// error handler and the result), against the one mlua leaves: the
/// difference is filled so that the stack limit falls at Redis's depth.
const REDIS_BASE_SLOTS: c_int = 2;

/// The error replies a conversion wrote.
#[derive(Default)]
pub(super) struct Errors {
    /// Whether it wrote any (the call then counts as failed).
    pub any: bool,
    /// The codes INFO errorstats counts: those of error tables without
    /// `ignore_error_stats_update`, which redis.call's errors carry (they
    /// were counted when their command failed).
    pub codes: Vec<String>,
}

impl Errors {
    /// An error table's message `msg` was replied.
    fn add(&mut self, msg: &[u8], counted: bool) {
        self.any = true;
        if counted {
            self.codes.push(crate::error::code_of(&String::from_utf8_lossy(msg)).to_string());
        }
    }
}

/// Writes `v` to `out`; `resp` is the protocol the script chose with
/// redis.setresp, which decides how booleans are returned.
pub(super) fn write(lua: &Lua, out: &mut Out, v: Value, resp: Protocol) -> mlua::Result<Errors> {
    let mut errors = Errors::default();
    // Safety: the closure runs with `v` pushed at the top of a protected
    // C frame and empties the stack; no value with a destructor is alive
    // across a Lua call that could raise (mlua aborts on out of memory).
    unsafe {
        lua.exec_raw::<()>(v, |l| {
            let filler = (REDIS_BASE_SLOTS - ffi::lua_gettop(l)).max(0);
            for _ in 0..filler {
                ffi::lua_pushnil(l);
                ffi::lua_insert(l, 1);
            }
            convert(l, out, resp, &mut errors);
            ffi::lua_settop(l, 0);
        })?;
    }
    Ok(errors)
}

/// Pushes `name` (a NUL-terminated field name) and replaces it with
/// `t[name]` of the table at the top; returns the field's type.
unsafe fn field(l: *mut ffi::lua_State, name: &std::ffi::CStr, table: c_int) -> c_int {
    // Safety: the caller reserved the slot (Redis's 4 per level).
    unsafe {
        ffi::lua_pushstring(l, name.as_ptr());
        ffi::lua_rawget(l, table - 1);
        ffi::lua_type(l, -1)
    }
}

/// The Lua string at `idx` as bytes (valid while it stays on the stack).
unsafe fn bytes<'a>(l: *mut ffi::lua_State, idx: c_int) -> &'a [u8] {
    // Safety: the value at `idx` is a string.
    unsafe {
        let mut len = 0;
        let p = ffi::lua_tolstring(l, idx, &mut len);
        std::slice::from_raw_parts(p as *const u8, len)
    }
}

/// A Lua string as C reads it: up to its first NUL (`sdsnew`).
fn c_str(s: &[u8]) -> &[u8] {
    &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())]
}

/// Line breaks as spaces (`sdsmapchars(s, "\r\n", "  ")`).
fn spaced(s: &[u8]) -> Vec<u8> {
    s.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }).collect()
}

/// Converts and pops the value at the top of the stack.
unsafe fn convert(l: *mut ffi::lua_State, out: &mut Out, resp: Protocol, errors: &mut Errors) {
    // Safety: as in `write`; every push below is within the 4 slots
    // checked here, as in Redis.
    unsafe {
        if ffi::lua_checkstack(l, 4) == 0 {
            out.error("ERR reached lua stack limit");
            ffi::lua_pop(l, 1);
            return;
        }
        match ffi::lua_type(l, -1) {
            ffi::LUA_TSTRING => out.bulk(bytes(l, -1)),
            ffi::LUA_TBOOLEAN => {
                let b = ffi::lua_toboolean(l, -1) != 0;
                match (resp, b) {
                    (Protocol::Resp3, _) => out.boolean(b),
                    (_, true) => out.int(1),
                    (_, false) => out.null(),
                }
            }
            ffi::LUA_TNUMBER => out.int(c_double_to_i64(ffi::lua_tonumber(l, -1))),
            ffi::LUA_TTABLE => {
                if table(l, out, resp, errors) {
                    return;
                }
            }
            _ => out.null(),
        }
        ffi::lua_pop(l, 1);
    }
}

/// Converts the table at the top: an error, status, double, big number,
/// verbatim string, map or set table, else an array up to the first nil.
/// Returns whether the table was popped already.
unsafe fn table(l: *mut ffi::lua_State, out: &mut Out, resp: Protocol, errors: &mut Errors) -> bool {
    // Safety: as in `convert`.
    unsafe {
        if field(l, c"err", -1) == ffi::LUA_TSTRING {
            // Trimmed of line breaks at the end (addReplyErrorFormatEx);
            // `out` spaces those in the middle.
            let msg = c_str(bytes(l, -1));
            let msg = &msg[..msg.iter().rposition(|&c| c != b'\r' && c != b'\n').map_or(0, |i| i + 1)];
            out.error(msg);
            let msg = msg.to_vec();
            ffi::lua_pop(l, 1);
            let flagged =
                field(l, c"ignore_error_stats_update", -1) == ffi::LUA_TBOOLEAN && ffi::lua_toboolean(l, -1) != 0;
            errors.add(&msg, !flagged);
            ffi::lua_pop(l, 2);
            return true;
        }
        ffi::lua_pop(l, 1);
        if field(l, c"ok", -1) == ffi::LUA_TSTRING {
            out.simple(&spaced(c_str(bytes(l, -1))));
            ffi::lua_pop(l, 2);
            return true;
        }
        ffi::lua_pop(l, 1);
        if field(l, c"double", -1) == ffi::LUA_TNUMBER {
            out.double(ffi::lua_tonumber(l, -1));
            ffi::lua_pop(l, 2);
            return true;
        }
        ffi::lua_pop(l, 1);
        if field(l, c"big_number", -1) == ffi::LUA_TSTRING {
            out.big_number(&spaced(bytes(l, -1)));
            ffi::lua_pop(l, 2);
            return true;
        }
        ffi::lua_pop(l, 1);
        if field(l, c"verbatim_string", -1) == ffi::LUA_TTABLE {
            if field(l, c"format", -1) == ffi::LUA_TSTRING {
                if field(l, c"string", -2) == ffi::LUA_TSTRING {
                    // Three characters of the C string, padded with
                    // spaces (addReplyVerbatim).
                    let f = bytes(l, -2);
                    let f = &f[..f.iter().position(|&c| c == 0).unwrap_or(f.len())];
                    let mut format = [b' '; 3];
                    for (d, s) in format.iter_mut().zip(f) {
                        *d = *s;
                    }
                    out.verbatim(bytes(l, -1), &format);
                    ffi::lua_pop(l, 4);
                    return true;
                }
                ffi::lua_pop(l, 1);
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
        if field(l, c"map", -1) == ffi::LUA_TTABLE {
            out.map(count(l));
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, -2) != 0 {
                // table, key, value: the key is converted from a copy so
                // that lua_next can go on from it.
                ffi::lua_pushvalue(l, -2);
                convert(l, out, resp, errors);
                convert(l, out, resp, errors);
            }
            ffi::lua_pop(l, 2);
            return true;
        }
        ffi::lua_pop(l, 1);
        if field(l, c"set", -1) == ffi::LUA_TTABLE {
            out.set(count(l));
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, -2) != 0 {
                ffi::lua_pop(l, 1);
                ffi::lua_pushvalue(l, -1);
                convert(l, out, resp, errors);
            }
            ffi::lua_pop(l, 2);
            return true;
        }
        ffi::lua_pop(l, 1);
        let mut len = 0;
        while {
            ffi::lua_rawgeti(l, -1, len + 1);
            let more = ffi::lua_type(l, -1) != ffi::LUA_TNIL;
            ffi::lua_pop(l, 1);
            more
        } {
            len += 1;
        }
        out.array(len as usize);
        for j in 1..=len {
            ffi::lua_rawgeti(l, -1, j);
            convert(l, out, resp, errors);
        }
        false
    }
}

/// The number of pairs of the table at the top (two slots for lua_next).
unsafe fn count(l: *mut ffi::lua_State) -> usize {
    // Safety: the caller has the two slots.
    unsafe {
        let mut n = 0;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            n += 1;
        }
        n
    }
}
