//! Walking a Lua table's pairs with exact numbers.
//!
//! mlua's Lua 5.1 build reads -0 and numbers within 2^-52 of zero as the
//! integer 0, and its `pairs` hands that 0 back to `next`, which then fails
//! ("invalid key to 'next'") when the real key was such a number. So the
//! walk is done in Lua (the prelude's `walk`), into one flat array of keys
//! and values; an entry read as integer 0 is read again as a float, which
//! is exact. Reading it back holds one reference, whatever the table's
//! size.

use mlua::{Function, Lua, Table, Value};

/// Where the prelude leaves its walker.
pub(crate) const WALK: &str = "ferrokv.walk";

/// The walker, for the prelude: `walk(t)` returns `flat, n` where `flat`
/// holds k1, v1, k2, v2, ... in `next` order.
pub(crate) const WALK_LUA: &str = r#"
return function(t)
  local flat, n = {}, 0
  for k, v in next, t do
    flat[n + 1], flat[n + 2] = k, v
    n = n + 2
  end
  return flat, n / 2
end
"#;

/// The pairs of one table, as `(key, value)` with numbers exact.
pub(crate) struct Pairs {
    flat: Table,
    len: usize,
    at: usize,
}

impl Pairs {
    pub(crate) fn new(lua: &Lua, t: &Table) -> mlua::Result<Pairs> {
        let walk: Function = lua.named_registry_value(WALK)?;
        let (flat, len): (Table, usize) = walk.call(t)?;
        Ok(Pairs { flat, len, at: 0 })
    }

    /// How many pairs the table has.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn get(&self, i: usize) -> mlua::Result<Value> {
        let v: Value = self.flat.raw_get(i)?;
        if !matches!(v, Value::Integer(0)) {
            return Ok(v);
        }
        // Zero itself stays an integer.
        let n: f64 = self.flat.raw_get(i)?;
        Ok(if n == 0.0 && n.is_sign_positive() { v } else { Value::Number(n) })
    }
}

impl Iterator for Pairs {
    type Item = mlua::Result<(Value, Value)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == self.len {
            return None;
        }
        let i = 2 * self.at + 1;
        self.at += 1;
        Some(self.get(i).and_then(|k| Ok((k, self.get(i + 1)?))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_zero_keys_and_values_come_back_exact() {
        let lua = Lua::new();
        let walk: Function = lua.load(WALK_LUA).eval().unwrap();
        lua.set_named_registry_value(WALK, walk).unwrap();
        let t: Table = lua.load("return {[1e-20] = -0, [-0] = 2^-60, [0.5] = 'x', a = 7}").eval().unwrap();
        let mut got: Vec<(String, String)> = Pairs::new(&lua, &t)
            .unwrap()
            .map(|kv| {
                let (k, v) = kv.unwrap();
                let show = |v: &Value| match v {
                    Value::Number(n) => format!("{n:e}{}", if n.is_sign_negative() { "-" } else { "" }),
                    Value::Integer(i) => format!("int {i}"),
                    Value::String(s) => s.to_string_lossy(),
                    v => format!("{v:?}"),
                };
                (show(&k), show(&v))
            })
            .collect();
        got.sort();
        let want = [("-0e0-", "8.673617379884035e-19"), ("1e-20", "-0e0-"), ("5e-1", "x"), ("a", "int 7")];
        assert_eq!(got, want.map(|(k, v)| (k.to_string(), v.to_string())));
    }
}
