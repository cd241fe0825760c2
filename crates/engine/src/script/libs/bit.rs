//! The `bit` library (LuaBitOp 1.0, as bundled with Redis): 32-bit
//! operations on Lua numbers.

use mlua::{Lua, MultiValue, Table};

use super::Args;

/// LuaBitOp's `barg`: the number's low 32 bits after rounding (the
/// 2^52+2^51 trick), modular for values past 32 bits.
fn barg(lua: &Lua, args: &MultiValue, narg: usize) -> mlua::Result<i32> {
    Ok(bits(super::check_number(lua, args, narg)?))
}

fn bits(n: f64) -> i32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

/// `barg` of an argument that may come packed.
fn packed_barg(lua: &Lua, args: &Args, narg: usize) -> mlua::Result<i32> {
    Ok(bits(super::number_arg(lua, args.get(narg)?.as_ref(), narg)?))
}

/// The `bit` library table.
pub fn bit(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    type Fold = fn(i32, i32) -> i32;
    let folds: [(&str, Fold); 3] = [("band", |a, b| a & b), ("bor", |a, b| a | b), ("bxor", |a, b| a ^ b)];
    for (name, f) in folds {
        t.set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let args = Args::new(lua, args);
                let mut acc = packed_barg(lua, &args, 1)?;
                // LuaBitOp folds from the last argument down, so that is
                // the first bad one it reports.
                for i in (2..=args.len()).rev() {
                    acc = f(acc, packed_barg(lua, &args, i)?);
                }
                Ok(acc as f64)
            })?,
        )?;
    }
    type Unary = fn(i32) -> i32;
    let unary: [(&str, Unary); 3] = [("tobit", |a| a), ("bnot", |a| !a), ("bswap", i32::swap_bytes)];
    for (name, f) in unary {
        t.set(name, lua.create_function(move |lua, args: MultiValue| Ok(f(barg(lua, &args, 1)?) as f64))?)?;
    }
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
            lua.create_function(move |lua, args: MultiValue| {
                let a = barg(lua, &args, 1)?;
                let n = (barg(lua, &args, 2)? & 31) as u32;
                Ok(f(a, n) as f64)
            })?,
        )?;
    }
    t.set(
        "tohex",
        lua.create_function(|lua, args: MultiValue| {
            let a = barg(lua, &args, 1)? as u32;
            let n = if args.len() < 2 { 8 } else { barg(lua, &args, 2)? };
            let upper = n < 0;
            let n = n.unsigned_abs().min(8) as usize;
            let s = if upper { format!("{a:08X}") } else { format!("{a:08x}") };
            Ok(s[8 - n..].to_string())
        })?,
    )?;
    use super::policy::{NAMED, PACK};
    super::wrap_table(lua, &t, &[("band", NAMED | PACK), ("bor", NAMED | PACK), ("bxor", NAMED | PACK)])?;
    Ok(t)
}
