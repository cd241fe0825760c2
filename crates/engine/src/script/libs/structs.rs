//! The `struct` library (Roberto Ierusalimschy's lstruct, as bundled with
//! Redis): `pack`, `unpack` and `size` of C-like binary records. Sizes and
//! alignment are those of Redis on x86-64 (`long` and `size_t` are 8
//! bytes, native order little-endian, maximum alignment 8).

use mlua::{Lua, MultiValue, Table, Value};

use super::{
    arg_error, bytes_arg, c_double_to_i64, c_double_to_u64, check_bytes, error, number_arg, opt_integer, Args,
};

/// Largest integer field, in bytes.
const MAX_INT_SIZE: i64 = 32;
/// `!` without a number.
const MAX_ALIGN: i64 = 8;
/// Slots a C function may use on the Lua stack (`LUAI_MAXCSTACK`).
const MAX_CSTACK: usize = 8000;

/// The format's byte order and alignment (`Header`).
struct Header {
    little: bool,
    align: i64,
}

impl Default for Header {
    fn default() -> Header {
        Header { little: true, align: 1 }
    }
}

/// A format string being read.
struct Format<'a> {
    f: &'a [u8],
    i: usize,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        // A C string: it ends at the first NUL.
        let c = *self.f.get(self.i).filter(|&&c| c != 0)?;
        self.i += 1;
        Some(c)
    }

    /// `getnum`: the digits that follow, or `default`.
    fn num(&mut self, lua: &Lua, default: i64) -> mlua::Result<i64> {
        if !self.f.get(self.i).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i64 = 0;
        while let Some(&c) = self.f.get(self.i).filter(|c| c.is_ascii_digit()) {
            let d = (c - b'0') as i64;
            if a > i32::MAX as i64 / 10 || a * 10 > i32::MAX as i64 - d {
                return Err(error(lua, "integral size overflow"));
            }
            a = a * 10 + d;
            self.i += 1;
        }
        Ok(a)
    }

    /// `optsize`: the size of option `opt` (0 for the ones that take no
    /// room or no alignment).
    fn size(&mut self, lua: &Lua, opt: u8) -> mlua::Result<i64> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.num(lua, 1)?,
            b'i' | b'I' => {
                let sz = self.num(lua, 4)?;
                if sz > MAX_INT_SIZE {
                    return Err(error(lua, format!("integral size {sz} is larger than limit of {MAX_INT_SIZE}")));
                }
                sz
            }
            _ => 0,
        })
    }

    /// `controloptions`: byte order, alignment and spaces; anything else
    /// is an invalid option.
    fn control(&mut self, lua: &Lua, opt: u8, h: &mut Header) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.num(lua, MAX_ALIGN)?;
                if a <= 0 || a & (a - 1) != 0 {
                    return Err(error(lua, format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            _ => {
                let mut msg = b"invalid format option '".to_vec();
                msg.extend_from_slice(&[opt, b'\'']);
                return Err(arg_error(lua, 1, msg));
            }
        }
        Ok(())
    }
}

/// `gettoalign`: padding before an item of `size` at offset `len`
/// (lstruct's formula, also for sizes that are not powers of two).
fn to_align(len: u64, h: &Header, opt: u8, size: i64) -> u64 {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align) as u64;
    (size.wrapping_sub(len & size.wrapping_sub(1))) & size.wrapping_sub(1)
}

fn fmt_arg(lua: &Lua, args: &MultiValue) -> mlua::Result<Vec<u8>> {
    check_bytes(lua, args, 1)
}

/// Native (little-endian) bytes put in the format's order.
fn ordered(mut b: Vec<u8>, little: bool) -> Vec<u8> {
    if !little {
        b.reverse();
    }
    b
}

/// The `struct` module table.
pub fn structs(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("pack", lua.create_function(pack)?)?;
    t.set("unpack", lua.create_function(|lua, args: MultiValue| unpack(lua, &args))?)?;
    t.set("size", lua.create_function(|lua, args: MultiValue| size(lua, &args))?)?;
    use super::policy::{NAMED, PACK, SPREAD, TRUNCATE};
    super::wrap_table(lua, &t, &[("pack", NAMED | PACK), ("unpack", SPREAD | NAMED | TRUNCATE)])?;
    Ok(t)
}

/// `b_pack`.
fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::String> {
    let args = Args::new(lua, args);
    let fmt = bytes_arg(lua, args.get(1)?.as_ref(), 1)?;
    // lstruct pushes a nil mark after its arguments, so a missing value
    // right after the last one reads as nil, not as "no value".
    let get = |narg: usize| -> mlua::Result<Option<Value>> {
        Ok(if narg == args.len() + 1 { Some(Value::Nil) } else { args.get(narg)? })
    };
    let mut f = Format { f: &fmt, i: 0 };
    let mut h = Header::default();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    let mut total: u64 = 0;
    while let Some(opt) = f.next() {
        let mut size = f.size(lua, opt)?;
        let pad = to_align(total, &h, opt, size);
        total = total.wrapping_add(pad);
        out.resize(out.len() + pad as usize, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = number_arg(lua, get(arg)?.as_ref(), arg)?;
                arg += 1;
                let v = if n < 0.0 { c_double_to_i64(n) as u64 } else { c_double_to_u64(n) };
                // Past 8 bytes the C value has been shifted out: zeros.
                let le: Vec<u8> = (0..size as usize).map(|k| if k < 8 { (v >> (8 * k)) as u8 } else { 0 }).collect();
                out.extend_from_slice(&ordered(le, h.little));
            }
            b'x' => out.push(0),
            b'f' => {
                let v = number_arg(lua, get(arg)?.as_ref(), arg)? as f32;
                arg += 1;
                out.extend_from_slice(&ordered(v.to_le_bytes().to_vec(), h.little));
            }
            b'd' => {
                let v = number_arg(lua, get(arg)?.as_ref(), arg)?;
                arg += 1;
                out.extend_from_slice(&ordered(v.to_le_bytes().to_vec(), h.little));
            }
            b'c' | b's' => {
                let s = bytes_arg(lua, get(arg)?.as_ref(), arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len() as i64;
                }
                if (s.len() as i64) < size {
                    // lstruct checks after moving past the argument, so
                    // the error names the next one.
                    return Err(arg_error(lua, arg as i64, "string too short"));
                }
                out.extend_from_slice(&s[..size as usize]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => f.control(lua, opt, &mut h)?,
        }
        total = total.wrapping_add(size as u64);
    }
    lua.create_string(&out)
}

/// `getinteger`: `size` bytes in the given order; only the last 8 read
/// survive in the C `long`, and the sign mask uses x86's shift count.
fn get_integer(b: &[u8], little: bool, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut push = |c: u8| l = (l << 8) | c as u64;
    if little {
        b.iter().rev().for_each(|&c| push(c));
    } else {
        b.iter().for_each(|&c| push(c));
    }
    if !signed {
        return l as f64;
    }
    let mask = u64::MAX.wrapping_shl((b.len() as u32 * 8).wrapping_sub(1));
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

/// `b_unpack`: the values, then the position after them (1-based).
fn unpack(lua: &Lua, args: &MultiValue) -> mlua::Result<(mlua::Table, usize)> {
    let fmt = fmt_arg(lua, args)?;
    let data = check_bytes(lua, args, 2)?;
    let ld = data.len() as u64;
    // size_t arithmetic, as in C: a negative start wraps.
    let mut pos = opt_integer(lua, args, 3, 1)? as u64;
    if pos == 0 {
        return Err(arg_error(lua, 3, "offset must be 1 or greater"));
    }
    pos -= 1;
    let mut f = Format { f: &fmt, i: 0 };
    let mut h = Header::default();
    let mut out = super::Results::new(lua)?;
    let too_short = |lua: &Lua| arg_error(lua, 2, "data string too short");
    while let Some(opt) = f.next() {
        let mut size = f.size(lua, opt)? as u64;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size as i64));
        if !(size <= ld && pos <= ld - size) {
            return Err(too_short(lua));
        }
        // luaL_checkstack(L, 2, ...) above the arguments and results.
        if args.len() + out.len() + 2 > MAX_CSTACK {
            return Err(error(lua, "stack overflow (too many results)"));
        }
        let at = pos as usize;
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let v = get_integer(&data[at..at + size as usize], h.little, opt.is_ascii_lowercase());
                out.push(Value::Number(v))?;
            }
            b'x' => {}
            b'f' => {
                let mut b: [u8; 4] = data[at..at + 4].try_into().expect("4 bytes");
                if !h.little {
                    b.reverse();
                }
                out.push(Value::Number(f32::from_le_bytes(b) as f64))?;
            }
            b'd' => {
                let mut b: [u8; 8] = data[at..at + 8].try_into().expect("8 bytes");
                if !h.little {
                    b.reverse();
                }
                out.push(Value::Number(f64::from_le_bytes(b)))?;
            }
            b'c' => {
                if size == 0 {
                    // `c0` takes its length from the previous result.
                    let prev = if out.len() == 0 { None } else { super::to_number(&out.last()?) };
                    let Some(n) = prev else {
                        return Err(error(lua, "format 'c0' needs a previous size"));
                    };
                    size = c_double_to_u64(n);
                    out.pop()?;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(too_short(lua));
                    }
                }
                out.push(Value::String(lua.create_string(&data[at..at + size as usize])?))?;
            }
            b's' => {
                let Some(len) = data[at..].iter().position(|&c| c == 0) else {
                    return Err(error(lua, "unfinished string in data"));
                };
                out.push(Value::String(lua.create_string(&data[at..at + len])?))?;
                size = len as u64 + 1;
            }
            _ => f.control(lua, opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    out.push(Value::Integer(pos.wrapping_add(1) as i64))?;
    Ok(out.into_return())
}

/// `b_size`: the bytes a format takes (letters it does not know are
/// skipped here, as lstruct does).
fn size(lua: &Lua, args: &MultiValue) -> mlua::Result<i64> {
    let fmt = fmt_arg(lua, args)?;
    let mut f = Format { f: &fmt, i: 0 };
    let mut h = Header::default();
    let mut pos: u64 = 0;
    while let Some(opt) = f.next() {
        let size = f.size(lua, opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if opt == b's' {
            return Err(arg_error(lua, 1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(arg_error(lua, 1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(lua, opt, &mut h)?;
        }
        pos = pos.wrapping_add(size as u64);
    }
    Ok(pos as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_back_with_sign_and_order() {
        assert_eq!(get_integer(&[0xff, 0xff], true, true), -1.0);
        assert_eq!(get_integer(&[0xff, 0xff], true, false), 65535.0);
        assert_eq!(get_integer(&[0x01, 0x02], false, false), 258.0);
        assert_eq!(get_integer(&[0x01, 0x02], true, false), 513.0);
    }

    #[test]
    fn alignment_pads_to_the_smaller_of_size_and_limit() {
        let h = Header { little: true, align: 4 };
        assert_eq!(to_align(1, &h, b'i', 4), 3);
        assert_eq!(to_align(1, &h, b'd', 8), 3);
        assert_eq!(to_align(4, &h, b'i', 4), 0);
        assert_eq!(to_align(1, &h, b'c', 4), 0);
        assert_eq!(to_align(1, &Header::default(), b'i', 4), 0);
    }
}
