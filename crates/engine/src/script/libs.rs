//! The libraries Redis adds to Lua: `bit` (LuaBitOp), `cjson`, and its
//! deterministic `math.random`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mlua::{Lua, MultiValue, Table, Value};

/// Lua's `%.14g`, how numbers become strings (tostring, concatenation).
pub fn fmt_number(n: f64) -> String {
    fmt_g(n, 14)
}

/// C's `%.<prec>g`.
pub fn fmt_g(n: f64, prec: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // The exponent after rounding to `prec` digits decides the form.
    let sci = format!("{:.*e}", prec - 1, n);
    let exp: i32 = sci.split_once('e').map_or(0, |(_, e)| e.parse().unwrap_or(0));
    if exp < -4 || exp >= prec as i32 {
        let s = sci;
        let (mant, e) = s.split_once('e').expect("exponent form");
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        let e: i32 = e.parse().expect("exponent");
        format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let s = format!("{:.*}", decimals, n);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// Redis's rand48 generator behind math.random: the same sequence as
/// Redis for the same calls.
struct Rand48(AtomicU64);

impl Rand48 {
    const A: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    fn next(&self) -> i32 {
        let x = self.0.load(Ordering::Relaxed);
        let x = (x.wrapping_mul(Self::A).wrapping_add(0xB)) & Self::MASK;
        self.0.store(x, Ordering::Relaxed);
        (x >> 17) as i32
    }

    fn seed(&self, s: i32) {
        self.0.store(((s as u32 as u64) << 16) | 0x330E, Ordering::Relaxed);
    }
}

fn int_arg(lua: &Lua, v: &Value, pos: usize, fname: &str) -> mlua::Result<i64> {
    match v {
        Value::Integer(i) => Ok(*i),
        Value::Number(n) => Ok(*n as i64),
        Value::String(s) => {
            s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()).map(|n| n as i64).ok_or_else(|| {
                super::raise(lua, format!("bad argument #{pos} to '{fname}' (number expected, got string)"))
            })
        }
        other => Err(super::raise(
            lua,
            format!("bad argument #{pos} to '{fname}' (number expected, got {})", other.type_name()),
        )),
    }
}

/// Replaces math.random and math.randomseed with Redis's versions.
pub fn install_math(lua: &Lua, allowed: &Table) -> mlua::Result<()> {
    let math: Table = allowed.get("math")?;
    let gen = Arc::new(Rand48(AtomicU64::new(0x1234_ABCD_330E)));
    let g = gen.clone();
    math.set(
        "random",
        lua.create_function(move |lua, args: MultiValue| {
            const MAX: f64 = i32::MAX as f64;
            let r = (g.next() as i64 % i32::MAX as i64) as f64 / MAX;
            match args.len() {
                0 => Ok(r),
                1 => {
                    let u = int_arg(lua, &args[0], 1, "random")?;
                    if u < 1 {
                        return Err(super::raise(lua, "bad argument #1 to 'random' (interval is empty)"));
                    }
                    Ok((r * u as f64).floor() + 1.0)
                }
                2 => {
                    let l = int_arg(lua, &args[0], 1, "random")?;
                    let u = int_arg(lua, &args[1], 2, "random")?;
                    if l > u {
                        return Err(super::raise(lua, "bad argument #2 to 'random' (interval is empty)"));
                    }
                    Ok((r * (u - l + 1) as f64).floor() + l as f64)
                }
                _ => Err(super::raise(lua, "wrong number of arguments")),
            }
        })?,
    )?;
    math.set(
        "randomseed",
        lua.create_function(move |lua, v: Value| {
            gen.seed(int_arg(lua, &v, 1, "randomseed")? as i32);
            Ok(())
        })?,
    )?;
    Ok(())
}

/// LuaBitOp's number → 32-bit integer conversion (modular).
fn tobit(lua: &Lua, v: &Value, pos: usize, fname: &str) -> mlua::Result<i32> {
    let n = match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        Value::String(s) => s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(f64::NAN),
        other => {
            return Err(super::raise(
                lua,
                format!("bad argument #{pos} to '{fname}' (number expected, got {})", other.type_name()),
            ))
        }
    };
    // The 2^52+2^51 trick LuaBitOp uses: the low 32 bits of the rounded
    // value.
    let t = n + 6_755_399_441_055_744.0;
    Ok(t.to_bits() as u32 as i32)
}

/// The `bit` library (LuaBitOp 1.0, as bundled with Redis).
pub fn bit(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    type Fold = fn(i32, i32) -> i32;
    let folds: [(&str, Fold); 3] = [("band", |a, b| a & b), ("bor", |a, b| a | b), ("bxor", |a, b| a ^ b)];
    for (name, f) in folds {
        t.set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let mut acc = tobit(lua, args.front().unwrap_or(&Value::Nil), 1, name)?;
                for (i, a) in args.iter().enumerate().skip(1) {
                    acc = f(acc, tobit(lua, a, i + 1, name)?);
                }
                Ok(acc as f64)
            })?,
        )?;
    }
    t.set("tobit", lua.create_function(|lua, v: Value| Ok(tobit(lua, &v, 1, "tobit")? as f64))?)?;
    t.set("bnot", lua.create_function(|lua, v: Value| Ok(!tobit(lua, &v, 1, "bnot")? as f64))?)?;
    t.set("bswap", lua.create_function(|lua, v: Value| Ok(tobit(lua, &v, 1, "bswap")?.swap_bytes() as f64))?)?;
    type Shift = fn(i32, u32) -> i32;
    let shifts: [(&str, Shift); 5] = [
        ("lshift", |a, n| ((a as u32) << n) as i32),
        ("rshift", |a, n| ((a as u32) >> n) as i32),
        ("arshift", |a, n| a >> n),
        ("rol", |a, n| (a as u32).rotate_left(n) as i32),
        ("ror", |a, n| (a as u32).rotate_right(n) as i32),
    ];
    for (name, f) in shifts {
        t.set(
            name,
            lua.create_function(move |lua, (a, n): (Value, Value)| {
                let a = tobit(lua, &a, 1, name)?;
                let n = (tobit(lua, &n, 2, name)? & 31) as u32;
                Ok(f(a, n) as f64)
            })?,
        )?;
    }
    t.set(
        "tohex",
        lua.create_function(|lua, (a, n): (Value, Option<Value>)| {
            let a = tobit(lua, &a, 1, "tohex")? as u32;
            let n = match n {
                Some(v) => tobit(lua, &v, 2, "tohex")?,
                None => 8,
            };
            let upper = n < 0;
            let n = n.unsigned_abs().min(8) as usize;
            let s = if upper { format!("{a:08X}") } else { format!("{a:08x}") };
            Ok(s[8 - n..].to_string())
        })?,
    )?;
    Ok(t)
}

/// The `cjson` library: encode and decode.
pub fn cjson(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let null = Value::LightUserData(mlua::LightUserData(std::ptr::null_mut()));
    t.set("null", null)?;
    t.set(
        "encode",
        lua.create_function(|lua, v: Value| {
            let mut out = Vec::new();
            encode_json(&v, &mut out, 0).map_err(|e| super::raise(lua, message(e)))?;
            Ok(mlua::BString::from(out))
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, s: mlua::String| {
            let bytes = s.as_bytes();
            let mut p = JsonParser { s: &bytes, i: 0 };
            p.ws();
            let v = p.value(lua, 0).and_then(|v| {
                p.ws();
                if p.i != p.s.len() {
                    return Err(p.err("the end"));
                }
                Ok(v)
            });
            v.map_err(|e| super::raise(lua, message(e)))
        })?,
    )?;
    Ok(t)
}

/// The text of an error raised inside a library function.
fn message(e: mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) => m,
        other => other.to_string(),
    }
}

fn encode_json(v: &Value, out: &mut Vec<u8>, depth: usize) -> mlua::Result<()> {
    if depth > 1000 {
        return Err(mlua::Error::runtime("Cannot serialise, excessive nesting (1001)"));
    }
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(u) if u.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Number(n) => {
            if n.is_nan() || n.is_infinite() {
                return Err(mlua::Error::runtime("Cannot serialise number: must not be NaN or Inf"));
            }
            out.extend_from_slice(fmt_number(*n).as_bytes());
        }
        Value::String(s) => {
            out.push(b'"');
            for &c in s.as_bytes().iter() {
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
        Value::Table(t) => {
            // An array when every key is a positive integer (cjson also
            // refuses very sparse arrays; those are rare in scripts).
            let pairs: Vec<(Value, Value)> = t.clone().pairs::<Value, Value>().collect::<mlua::Result<_>>()?;
            let mut max = 0usize;
            let is_array = !pairs.is_empty()
                && pairs.iter().all(|(k, _)| {
                    let n = match k {
                        Value::Integer(i) => *i as f64,
                        Value::Number(n) => *n,
                        _ => return false,
                    };
                    let ok = n >= 1.0 && n == n.trunc();
                    if ok {
                        max = max.max(n as usize);
                    }
                    ok
                });
            if is_array && max <= pairs.len() * 2 + 10 {
                out.push(b'[');
                for i in 1..=max {
                    if i > 1 {
                        out.push(b',');
                    }
                    let v: Value = t.raw_get(i)?;
                    encode_json(&v, out, depth + 1)?;
                }
                out.push(b']');
            } else {
                out.push(b'{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let key = match k {
                        Value::String(s) => Value::String(s.clone()),
                        Value::Integer(_) | Value::Number(_) => {
                            let mut b = Vec::new();
                            encode_json(k, &mut b, depth + 1)?;
                            out.push(b'"');
                            out.extend_from_slice(&b);
                            out.push(b'"');
                            out.push(b':');
                            encode_json(v, out, depth + 1)?;
                            continue;
                        }
                        _ => {
                            return Err(mlua::Error::runtime(
                                "Cannot serialise table: table key must be a number or string",
                            ))
                        }
                    };
                    encode_json(&key, out, depth + 1)?;
                    out.push(b':');
                    encode_json(v, out, depth + 1)?;
                }
                out.push(b'}');
            }
        }
        other => {
            return Err(mlua::Error::runtime(format!("Cannot serialise {}: type not supported", other.type_name())))
        }
    }
    Ok(())
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn err(&self, expected: &str) -> mlua::Error {
        let found = match self.s.get(self.i) {
            None => "the end".to_string(),
            Some(c) => format!("'{}'", *c as char),
        };
        mlua::Error::runtime(format!(
            "Expected {expected} but found invalid token at character {}: {found}",
            self.i + 1
        ))
    }

    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &[u8]) -> bool {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, lua: &Lua, depth: usize) -> mlua::Result<Value> {
        if depth > 1000 {
            return Err(super::raise(lua, "Found too many nested data structures (1001)"));
        }
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let t = lua.create_table()?;
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Table(t));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("object key string"));
                    }
                    let k = self.string(lua)?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return Err(self.err("colon"));
                    }
                    self.i += 1;
                    let v = self.value(lua, depth + 1)?;
                    t.raw_set(k, v)?;
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Table(t));
                        }
                        _ => return Err(self.err("comma or object end")),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let t = lua.create_table()?;
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::Table(t));
                }
                let mut n = 1;
                loop {
                    let v = self.value(lua, depth + 1)?;
                    t.raw_set(n, v)?;
                    n += 1;
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::Table(t));
                        }
                        _ => return Err(self.err("comma or array end")),
                    }
                }
            }
            Some(b'"') => self.string(lua),
            Some(b't') if self.lit(b"true") => Ok(Value::Boolean(true)),
            Some(b'f') if self.lit(b"false") => Ok(Value::Boolean(false)),
            Some(b'n') if self.lit(b"null") => Ok(Value::LightUserData(mlua::LightUserData(std::ptr::null_mut()))),
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                match text.parse::<f64>() {
                    Ok(n) => Ok(Value::Number(n)),
                    Err(_) => {
                        self.i = start;
                        Err(self.err("value"))
                    }
                }
            }
            _ => Err(self.err("value")),
        }
    }

    fn string(&mut self, lua: &Lua) -> mlua::Result<Value> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err(self.err("string end")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Value::String(lua.create_string(&out)?));
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *self.s.get(self.i).ok_or_else(|| self.err("escape"))?;
                    self.i += 1;
                    match c {
                        b'"' | b'\\' | b'/' => out.push(c),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or_else(|| self.err("unicode escape"))?;
                            let cp = u32::from_str_radix(std::str::from_utf8(hex).unwrap_or("x"), 16)
                                .map_err(|_| self.err("unicode escape"))?;
                            self.i += 4;
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(self.err("escape")),
                    }
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_lua_does() {
        assert_eq!(fmt_number(1.0), "1");
        assert_eq!(fmt_number(-3.0), "-3");
        assert_eq!(fmt_number(1.5), "1.5");
        assert_eq!(fmt_number(0.1), "0.1");
        assert_eq!(fmt_number(1e20), "1e+20");
        assert_eq!(fmt_number(1.0 / 3.0), "0.33333333333333");
        assert_eq!(fmt_number(123456.789), "123456.789");
        assert_eq!(fmt_number(1e-7), "1e-07");
    }

    #[test]
    fn rand48_matches_the_c_generator() {
        // First outputs of lrand48 after srand48(0).
        let g = Rand48(AtomicU64::new(0));
        g.seed(0);
        assert_eq!([g.next(), g.next(), g.next()], [366850414, 1610402240, 206956554]);
    }
}
