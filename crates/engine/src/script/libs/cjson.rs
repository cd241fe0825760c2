//! The `cjson` library (Lua CJSON 2.1.0, as bundled with Redis): encode,
//! decode and the configuration functions, with its tokenizer's error
//! messages, its sparse-array rule and its limits.

use std::sync::{Arc, Mutex};

use std::os::raw::c_int;

use mlua::{ffi, Lua, MultiValue, Table, Value};

use super::{arg_error, check_bytes, check_integer, error, exact_args, fmt_g};

/// One module table's settings (`json_config_t`): the configuration
/// functions change them for every later call, as in Redis.
#[derive(Clone, Copy)]
struct Config {
    sparse_convert: i64,
    sparse_ratio: i64,
    sparse_safe: i64,
    encode_max_depth: i64,
    decode_max_depth: i64,
    /// 0 refuse, 1 encode as `inf`/`nan`, 2 encode as `null`.
    encode_invalid_numbers: i64,
    encode_number_precision: i64,
    encode_keep_buffer: i64,
    decode_invalid_numbers: i64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sparse_convert: 0,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            encode_number_precision: 14,
            encode_keep_buffer: 1,
            decode_invalid_numbers: 1,
        }
    }
}

type Shared = Arc<Mutex<Config>>;

fn with<R>(cfg: &Shared, f: impl FnOnce(&mut Config) -> R) -> R {
    f(&mut cfg.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The `cjson` module table, with a configuration of its own (`cjson.new`
/// makes another).
pub fn cjson(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let cfg: Shared = Arc::default();
    let c = cfg.clone();
    t.set(
        "encode",
        lua.create_function(move |lua, mut args: MultiValue| {
            if args.len() != 1 {
                return Err(arg_error(lua, 1, "expected 1 argument"));
            }
            // A number argument is read exactly before it goes back on
            // the stack; tables are walked there.
            exact_args(lua, &mut args);
            let config = with(&c, |c| *c);
            let mut out = Vec::new();
            let mut failed = None;
            // Safety: the closure works on the stack above the one value
            // pushed for it and keeps within the slots it checks.
            unsafe {
                lua.exec_raw::<()>(args, |l| {
                    failed = append(l, &config, 0, &mut out).err();
                    ffi::lua_settop(l, 0);
                })?;
            }
            if let Some(msg) = failed {
                return Err(error(lua, msg));
            }
            lua.create_string(&out)
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(arg_error(lua, 1, "expected 1 argument"));
            }
            let config = with(&c, |c| *c);
            let s = check_bytes(lua, &args, 1)?;
            if s.len() >= 2 && (s[0] == 0 || s[1] == 0) {
                return Err(error(lua, "JSON parser does not support UTF-16 or UTF-32"));
            }
            let mut p = Decoder { cfg: &config, s: &s, i: 0, depth: 0 };
            let mut failed = None;
            // The value goes from Lua's stack into `result` and from there
            // to the caller (policy::SPREAD) without being read as an mlua
            // value, which would turn a number like 1e-300 into 0.
            let result = lua.create_table()?;
            // Safety: the value is built on the stack above `result` (one
            // slot, as CJSON's argument), within the slots `descend`
            // checks, then stored in it.
            unsafe {
                lua.exec_raw::<()>(&result, |l| {
                    let tok = p.next_token();
                    let done = p.push_value(l, tok).and_then(|()| {
                        let tok = p.next_token();
                        if tok.kind != Tok::End {
                            return Err(p.parse_error("the end", &tok));
                        }
                        Ok(())
                    });
                    match done {
                        Ok(()) => ffi::lua_rawseti(l, 1, 1),
                        Err(msg) => failed = Some(msg),
                    }
                    ffi::lua_settop(l, 0);
                })?
            };
            if let Some(msg) = failed {
                return Err(error(lua, msg));
            }
            Ok((result, 1))
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "encode_sparse_array",
        lua.create_function(move |lua, args: MultiValue| {
            arg_init(lua, &args, 3)?;
            with(&c, |c| {
                let convert = enum_option(lua, &args, 1, &mut c.sparse_convert, &["off", "on"])?;
                let ratio = int_option(lua, &args, 2, &mut c.sparse_ratio, 0, i32::MAX as i64)?;
                let safe = int_option(lua, &args, 3, &mut c.sparse_safe, 0, i32::MAX as i64)?;
                Ok((convert, ratio, safe))
            })
        })?,
    )?;
    type Field = fn(&mut Config) -> &mut i64;
    let ints: [(&str, Field, i64, i64); 3] = [
        ("encode_max_depth", |c| &mut c.encode_max_depth, 1, i32::MAX as i64),
        ("decode_max_depth", |c| &mut c.decode_max_depth, 1, i32::MAX as i64),
        ("encode_number_precision", |c| &mut c.encode_number_precision, 1, 14),
    ];
    for (name, field, min, max) in ints {
        let c = cfg.clone();
        t.set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                arg_init(lua, &args, 1)?;
                with(&c, |c| int_option(lua, &args, 1, field(c), min, max))
            })?,
        )?;
    }
    let enums: [(&str, Field, &[&str]); 3] = [
        ("encode_keep_buffer", |c| &mut c.encode_keep_buffer, &["off", "on"]),
        ("encode_invalid_numbers", |c| &mut c.encode_invalid_numbers, &["off", "on", "null"]),
        ("decode_invalid_numbers", |c| &mut c.decode_invalid_numbers, &["off", "on"]),
    ];
    for (name, field, options) in enums {
        let c = cfg.clone();
        t.set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                arg_init(lua, &args, 1)?;
                with(&c, |c| enum_option(lua, &args, 1, field(c), options))
            })?,
        )?;
    }
    t.set("new", lua.create_function(|lua, ()| cjson(lua))?)?;
    t.set("null", Value::LightUserData(mlua::LightUserData(std::ptr::null_mut())))?;
    t.set("_NAME", "cjson")?;
    t.set("_VERSION", "2.1.0")?;
    use super::policy::{NAMED, SPREAD, TRUNCATE};
    super::wrap_table(lua, &t, &[("decode", NAMED | TRUNCATE | SPREAD)])?;
    Ok(t)
}

/// `json_arg_init`: at most `n` arguments.
fn arg_init(lua: &Lua, args: &MultiValue, n: usize) -> mlua::Result<()> {
    if args.len() > n {
        return Err(arg_error(lua, n as i64 + 1, "found too many arguments"));
    }
    Ok(())
}

/// `json_integer_option`: sets the value when given (the range error
/// always names argument 1, as CJSON's does) and returns the setting.
fn int_option(lua: &Lua, args: &MultiValue, idx: usize, setting: &mut i64, min: i64, max: i64) -> mlua::Result<i64> {
    if !matches!(args.get(idx - 1), None | Some(Value::Nil)) {
        let v = check_integer(lua, args, idx)? as i32 as i64;
        if v < min || v > max {
            return Err(arg_error(lua, 1, format!("expected integer between {min} and {max}")));
        }
        *setting = v;
    }
    Ok(*setting)
}

/// `json_enum_option`: a boolean or one of `options`; returns a boolean
/// for off/on and the option's name otherwise.
fn enum_option(lua: &Lua, args: &MultiValue, idx: usize, setting: &mut i64, options: &[&str]) -> mlua::Result<Value> {
    match args.get(idx - 1) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *setting = *b as i64,
        Some(_) => {
            let name = check_bytes(lua, args, idx)?;
            match options.iter().position(|o| o.as_bytes() == name) {
                Some(i) => *setting = i as i64,
                None => {
                    let mut msg = b"invalid option '".to_vec();
                    msg.extend_from_slice(&name);
                    msg.push(b'\'');
                    return Err(arg_error(lua, idx as i64, msg));
                }
            }
        }
    }
    Ok(match *setting {
        0 | 1 => Value::Boolean(*setting == 1),
        s => Value::String(lua.create_string(options[s as usize])?),
    })
}

/// `json_encode_exception`'s message for the value of type `ty`.
fn fail(ty: &str, reason: &str) -> String {
    format!("Cannot serialise {ty}: {reason}")
}

/// `lua_typename` of the value at `idx`.
unsafe fn type_name(l: *mut ffi::lua_State, idx: c_int) -> String {
    // Safety: `idx` is a valid index; type names are static C strings.
    unsafe { std::ffi::CStr::from_ptr(ffi::lua_typename(l, ffi::lua_type(l, idx))).to_string_lossy().into_owned() }
}

/// The Lua string at `idx` (valid while it stays on the stack).
unsafe fn bytes<'a>(l: *mut ffi::lua_State, idx: c_int) -> &'a [u8] {
    // Safety: the value at `idx` is a string.
    unsafe {
        let mut len = 0;
        let p = ffi::lua_tolstring(l, idx, &mut len);
        std::slice::from_raw_parts(p as *const u8, len)
    }
}

/// `json_append_data` of the value at the top of the stack, read where
/// CJSON reads it, so the stack limit falls where it does in Redis and
/// numbers (-0, 1e-20) are exact. Errors are the message to raise.
unsafe fn append(l: *mut ffi::lua_State, cfg: &Config, depth: i64, out: &mut Vec<u8>) -> Result<(), String> {
    // Safety: each level checks its 3 slots first, as CJSON does.
    unsafe {
        match ffi::lua_type(l, -1) {
            ffi::LUA_TSTRING => push_string(bytes(l, -1), out),
            ffi::LUA_TNUMBER => append_number(cfg, ffi::lua_tonumber(l, -1), out)?,
            ffi::LUA_TBOOLEAN => out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 { b"true" } else { b"false" }),
            ffi::LUA_TNIL => out.extend_from_slice(b"null"),
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => out.extend_from_slice(b"null"),
            ffi::LUA_TTABLE => {
                let depth = depth + 1;
                if depth > cfg.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                    return Err(format!("Cannot serialise, excessive nesting ({depth})"));
                }
                let len = array_length(l, cfg)?;
                if len > 0 {
                    out.push(b'[');
                    for i in 1..=len {
                        if i > 1 {
                            out.push(b',');
                        }
                        ffi::lua_rawgeti(l, -1, i.into());
                        append(l, cfg, depth, out)?;
                        ffi::lua_pop(l, 1);
                    }
                    out.push(b']');
                } else {
                    out.push(b'{');
                    ffi::lua_pushnil(l);
                    let mut first = true;
                    while ffi::lua_next(l, -2) != 0 {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match ffi::lua_type(l, -2) {
                            ffi::LUA_TNUMBER => {
                                out.push(b'"');
                                append_number(cfg, ffi::lua_tonumber(l, -2), out)?;
                                out.extend_from_slice(b"\":");
                            }
                            ffi::LUA_TSTRING => {
                                push_string(bytes(l, -2), out);
                                out.push(b':');
                            }
                            _ => return Err(fail(&type_name(l, -2), "table key must be a number or string")),
                        }
                        append(l, cfg, depth, out)?;
                        ffi::lua_pop(l, 1);
                    }
                    out.push(b'}');
                }
            }
            _ => return Err(fail(&type_name(l, -1), "type not supported")),
        }
        Ok(())
    }
}

/// `lua_array_length` of the table at the top: its largest index when
/// every key is a positive integer and it is not excessively sparse, else
/// 0 or less (an object).
unsafe fn array_length(l: *mut ffi::lua_State, cfg: &Config) -> Result<c_int, String> {
    // Safety: two of the slots `append` checked.
    unsafe {
        let (mut max, mut items): (c_int, i64) = (0, 0);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            let k = ffi::lua_tonumber(l, -2);
            if ffi::lua_type(l, -2) != ffi::LUA_TNUMBER || k == 0.0 || k.floor() != k || k < 1.0 {
                ffi::lua_pop(l, 2);
                return Ok(-1);
            }
            // C compares as doubles, then assigns the double to an int
            // (an index past i32 comes out as i32::MIN, making an object).
            if k > max as f64 {
                max = super::c_double_to_i32(k);
            }
            items += 1;
            ffi::lua_pop(l, 1);
        }
        let max64 = max as i64;
        if cfg.sparse_ratio > 0 && max64 > items * cfg.sparse_ratio && max64 > cfg.sparse_safe {
            if cfg.sparse_convert == 0 {
                return Err(fail("table", "excessively sparse array"));
            }
            return Ok(-1);
        }
        Ok(max)
    }
}

/// `json_append_number`.
fn append_number(cfg: &Config, n: f64, out: &mut Vec<u8>) -> Result<(), String> {
    let invalid = n.is_nan() || n.is_infinite();
    match cfg.encode_invalid_numbers {
        0 if invalid => return Err(fail("number", "must not be NaN or Inf")),
        1 if n.is_nan() => {
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if invalid => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    out.extend_from_slice(fmt_g(n, cfg.encode_number_precision as usize).as_bytes());
    Ok(())
}

/// `json_append_string`: CJSON's escape table (it escapes `/` and DEL).
fn push_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            c => out.push(c),
        }
    }
    out.push(b'"');
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Number => "T_NUMBER",
            Tok::Boolean => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error => "T_ERROR",
        }
    }
}

struct Token {
    kind: Tok,
    /// Where the token starts (for T_ERROR: where the error was found).
    index: usize,
    /// What went wrong, for T_ERROR.
    error: &'static str,
    text: Vec<u8>,
    number: f64,
    boolean: bool,
}

impl Token {
    fn new(kind: Tok, index: usize) -> Token {
        Token { kind, index, error: "", text: Vec::new(), number: 0.0, boolean: false }
    }

    fn error(index: usize, what: &'static str) -> Token {
        Token { error: what, ..Token::new(Tok::Error, index) }
    }
}

struct Decoder<'a> {
    cfg: &'a Config,
    s: &'a [u8],
    i: usize,
    depth: i64,
}

impl Decoder<'_> {
    /// The byte at `i`; the input is a C string, so its end reads as NUL.
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn starts_with(&self, word: &[u8]) -> bool {
        word.iter().enumerate().all(|(k, &c)| self.at(self.i + k) == c)
    }

    /// `json_next_token`.
    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.i), b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
        let start = self.i;
        let single = match self.at(start) {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            0 => return Token::new(Tok::End, start),
            _ => None,
        };
        if let Some(kind) = single {
            self.i += 1;
            return Token::new(kind, start);
        }
        let c = self.at(start);
        if !matches!(c, b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9') {
            return Token::error(start, "invalid token");
        }
        if c == b'"' {
            return self.string_token(start);
        }
        if c == b'-' || c.is_ascii_digit() {
            if self.cfg.decode_invalid_numbers == 0 && self.invalid_number() {
                return Token::error(start, "invalid number");
            }
            return self.number_token(start);
        }
        if self.starts_with(b"true") {
            self.i += 4;
            return Token { boolean: true, ..Token::new(Tok::Boolean, start) };
        }
        if self.starts_with(b"false") {
            self.i += 5;
            return Token::new(Tok::Boolean, start);
        }
        if self.starts_with(b"null") {
            self.i += 4;
            return Token::new(Tok::Null, start);
        }
        if self.cfg.decode_invalid_numbers != 0 && self.invalid_number() {
            return self.number_token(start);
        }
        Token::error(start, "invalid token")
    }

    /// `json_is_invalid_number`: forms strtod takes that JSON does not
    /// (leading `+`, hex, leading zeros, inf, nan).
    fn invalid_number(&self) -> bool {
        let mut p = self.i;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        if c <= b'9' {
            return false;
        }
        let word = |w: &[u8]| w.iter().enumerate().all(|(k, &x)| self.at(p + k).to_ascii_lowercase() == x);
        word(b"inf") || word(b"nan")
    }

    fn number_token(&mut self, start: usize) -> Token {
        // strtod stops at the first byte no number form uses; handing it
        // only that run keeps a long document from being copied per number.
        let rest = &self.s[start.min(self.s.len())..];
        let run = rest
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-' | b'_' | b'(' | b')')))
            .unwrap_or(rest.len());
        let (n, used, _) = crate::types::zset::strtod(&rest[..run]);
        if used == 0 {
            return Token::error(start, "invalid number");
        }
        self.i += used;
        Token { number: n, ..Token::new(Tok::Number, start) }
    }

    /// `json_next_string_token`: errors point where they were found.
    fn string_token(&mut self, start: usize) -> Token {
        self.i += 1;
        let mut text = Vec::new();
        loop {
            let c = self.at(self.i);
            match c {
                b'"' => break,
                0 => return Token::error(self.i, "unexpected end of string"),
                b'\\' => {
                    let e = match self.at(self.i + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => 0x0c,
                        b'r' => b'\r',
                        b'u' => {
                            if self.unicode_escape(&mut text) {
                                continue;
                            }
                            return Token::error(self.i, "invalid unicode escape code");
                        }
                        _ => return Token::error(self.i, "invalid escape code"),
                    };
                    text.push(e);
                    self.i += 2;
                }
                c => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        self.i += 1;
        Token { text, ..Token::new(Tok::Str, start) }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, k| (self.at(at + k) as char).to_digit(16).map(|d| acc << 4 | d))
    }

    /// `json_append_unicode_escape`: `\uXXXX`, surrogate pairs joined.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> bool {
        let Some(mut cp) = self.hex4(self.i + 2) else { return false };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 || self.at(self.i + 6) != b'\\' || self.at(self.i + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.i + 8) else { return false };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        // CJSON's own UTF-8 writer (it takes any code point up to 0x1FFFFF).
        if cp <= 0x7F {
            out.push(cp as u8);
        } else if cp <= 0x7FF {
            out.extend_from_slice(&[(cp >> 6) as u8 | 0xC0, (cp & 0x3F) as u8 | 0x80]);
        } else if cp <= 0xFFFF {
            out.extend_from_slice(&[
                (cp >> 12) as u8 | 0xE0,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        } else {
            out.extend_from_slice(&[
                (cp >> 18) as u8 | 0xF0,
                ((cp >> 12) & 0x3F) as u8 | 0x80,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        }
        self.i += len;
        true
    }

    /// `json_throw_parse_error`'s message.
    fn parse_error(&self, expected: &str, tok: &Token) -> String {
        let found = if tok.kind == Tok::Error { tok.error } else { tok.kind.name() };
        format!("Expected {expected} but found {found} at character {}", tok.index + 1)
    }

    /// `json_decode_descend`: one level deeper, within the depth limit
    /// and the C function's stack.
    unsafe fn descend(&mut self, l: *mut ffi::lua_State, slots: c_int) -> Result<(), String> {
        self.depth += 1;
        // Safety: lua_checkstack only grows the stack.
        if self.depth <= self.cfg.decode_max_depth && unsafe { ffi::lua_checkstack(l, slots) } != 0 {
            return Ok(());
        }
        Err(format!("Found too many nested data structures ({}) at character {}", self.depth, self.i))
    }

    /// `json_process_value`: pushes the value `tok` starts.
    unsafe fn push_value(&mut self, l: *mut ffi::lua_State, tok: Token) -> Result<(), String> {
        // Safety: every push is within the slots `descend` checked (a
        // scalar takes the one its container reserved for it).
        unsafe {
            match tok.kind {
                Tok::Str => {
                    ffi::lua_pushlstring(l, tok.text.as_ptr() as *const _, tok.text.len());
                }
                Tok::Number => ffi::lua_pushnumber(l, tok.number),
                Tok::Boolean => ffi::lua_pushboolean(l, tok.boolean as c_int),
                Tok::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
                Tok::ObjBegin => {
                    self.descend(l, 3)?;
                    ffi::lua_newtable(l);
                    let mut tok = self.next_token();
                    if tok.kind != Tok::ObjEnd {
                        loop {
                            if tok.kind != Tok::Str {
                                return Err(self.parse_error("object key string", &tok));
                            }
                            ffi::lua_pushlstring(l, tok.text.as_ptr() as *const _, tok.text.len());
                            // No frame keeps heap memory across lua_rawset,
                            // which can raise (table overflow) past it.
                            drop(std::mem::take(&mut tok.text));
                            let colon = self.next_token();
                            if colon.kind != Tok::Colon {
                                return Err(self.parse_error("colon", &colon));
                            }
                            let vt = self.next_token();
                            self.push_value(l, vt)?;
                            ffi::lua_rawset(l, -3);
                            tok = self.next_token();
                            if tok.kind == Tok::ObjEnd {
                                break;
                            }
                            if tok.kind != Tok::Comma {
                                return Err(self.parse_error("comma or object end", &tok));
                            }
                            tok = self.next_token();
                        }
                    }
                    self.depth -= 1;
                }
                Tok::ArrBegin => {
                    self.descend(l, 2)?;
                    ffi::lua_newtable(l);
                    let mut tok = self.next_token();
                    if tok.kind != Tok::ArrEnd {
                        let mut n: c_int = 1;
                        loop {
                            self.push_value(l, tok)?;
                            ffi::lua_rawseti(l, -2, n.into());
                            n += 1;
                            tok = self.next_token();
                            if tok.kind == Tok::ArrEnd {
                                break;
                            }
                            if tok.kind != Tok::Comma {
                                return Err(self.parse_error("comma or array end", &tok));
                            }
                            tok = self.next_token();
                        }
                    }
                    self.depth -= 1;
                }
                _ => return Err(self.parse_error("value", &tok)),
            }
            Ok(())
        }
    }
}
