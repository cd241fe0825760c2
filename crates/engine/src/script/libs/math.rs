//! Redis's `math.random` and `math.randomseed`: its rand48 generator, so a
//! script draws the same sequence as on Redis.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mlua::{Lua, MultiValue, Table};

/// Redis's rand48 generator behind math.random.
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

/// `luaL_checkint`: the integer argument cut to a C int.
fn check_int(lua: &Lua, args: &MultiValue, narg: usize) -> mlua::Result<i64> {
    super::check_integer(lua, args, narg).map(|i| i as i32 as i64)
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
                    let u = check_int(lua, &args, 1)?;
                    if u < 1 {
                        return Err(super::arg_error(lua, 1, "interval is empty"));
                    }
                    Ok((r * u as f64).floor() + 1.0)
                }
                2 => {
                    let l = check_int(lua, &args, 1)?;
                    let u = check_int(lua, &args, 2)?;
                    if l > u {
                        return Err(super::arg_error(lua, 2, "interval is empty"));
                    }
                    Ok((r * (u - l + 1) as f64).floor() + l as f64)
                }
                _ => Err(super::error(lua, "wrong number of arguments")),
            }
        })?,
    )?;
    math.set(
        "randomseed",
        lua.create_function(move |lua, args: MultiValue| {
            gen.seed(check_int(lua, &args, 1)? as i32);
            Ok(())
        })?,
    )?;
    for name in ["random", "randomseed"] {
        let f: mlua::Function = math.raw_get(name)?;
        math.raw_set(name, super::wrap(lua, f, super::policy::NAMED | super::policy::TRUNCATE)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand48_matches_the_c_generator() {
        // First outputs of lrand48 after srand48(0).
        let g = Rand48(AtomicU64::new(0));
        g.seed(0);
        assert_eq!([g.next(), g.next(), g.next()], [366850414, 1610402240, 206956554]);
    }
}
