//! The libraries Redis adds to Lua (`bit`, `cjson`, `cmsgpack`, `struct`
//! and its deterministic `math.random`), one module each, and the pieces of
//! Lua's C auxiliary library they are written against.
//!
//! Redis's libraries are C functions, so their errors read the way
//! `lauxlib.c` words them: `luaL_error` prefixes the calling line
//! (`user_script:1: `), `luaL_argerror` names the argument and the
//! function as the caller spelled it. The helpers below reproduce that, so
//! a script's error reply is byte-identical to Redis's.

mod bit;
mod cjson;
mod cmsgpack;
mod math;
mod structs;

use std::os::raw::c_int;

use mlua::{ffi, Function, Lua, MultiValue, Table, Value};

pub use bit::bit;
pub use cjson::cjson;
pub use cmsgpack::cmsgpack;
pub use math::install_math;
pub use structs::structs;

pub(crate) use super::pairs::Pairs;

/// Lua's `%.14g`, how numbers become strings (tostring, concatenation).
pub fn fmt_number(n: f64) -> String {
    fmt_g(n, 14)
}

/// C's `%.<prec>g`.
pub fn fmt_g(n: f64, prec: usize) -> String {
    let mut out = Vec::with_capacity(24);
    ferrokv_resp::float::push_g(&mut out, n, prec);
    String::from_utf8(out).expect("printf output is ASCII")
}

/// Registry flag: a [`wrap`]per is running its native function.
const WRAPPED: &str = "ferrokv.wrapped";

/// Whether the running native function was called by a [`wrap`]per with
/// [`policy::NAMED`], which then stands in for it in error messages (one
/// level up the stack).
fn through_wrapper(lua: &Lua) -> bool {
    lua.named_registry_value::<bool>(WRAPPED).unwrap_or(false)
}

/// `luaL_where(L, 1)`: `chunk:line: ` of the Lua code that called the
/// running native function, or nothing when that caller is native too.
fn location(lua: &Lua) -> String {
    lua.inspect_stack(if through_wrapper(lua) { 2 } else { 1 })
        .and_then(|d| {
            let line = d.curr_line();
            let src = d.source().short_src.map(|s| s.into_owned())?;
            (line > 0).then(|| format!("{src}:{line}: "))
        })
        .unwrap_or_default()
}

/// `luaL_error`: raises `msg` prefixed with the caller's location.
pub(crate) fn error(lua: &Lua, msg: impl AsRef<[u8]>) -> mlua::Error {
    let mut text = location(lua).into_bytes();
    text.extend_from_slice(msg.as_ref());
    match lua.create_string(&text) {
        Ok(s) => super::raise(lua, s),
        Err(e) => e,
    }
}

/// `luaL_argerror`: `bad argument #n to 'name' (extra)`, with the name the
/// caller used for the function and `self` not counted for a method call.
pub(crate) fn arg_error(lua: &Lua, narg: i64, extra: impl AsRef<[u8]>) -> mlua::Error {
    let (name, what) = lua
        .inspect_stack(if through_wrapper(lua) { 1 } else { 0 })
        .map(|d| {
            let n = d.names();
            (n.name.map(|s| s.into_owned()), n.name_what.unwrap_or(""))
        })
        .unwrap_or((None, ""));
    let name = name.unwrap_or_else(|| "?".into());
    let extra = String::from_utf8_lossy(extra.as_ref());
    if what == "method" {
        if narg == 1 {
            return error(lua, format!("calling '{name}' on bad self ({extra})"));
        }
        return error(lua, format!("bad argument #{} to '{name}' ({extra})", narg - 1));
    }
    error(lua, format!("bad argument #{narg} to '{name}' ({extra})"))
}

/// Results stored in a Lua table as they are made, rather than held in
/// Rust until the call returns: each held Value pins one of mlua's
/// references, which Lua 5.1 caps near 8000 and whose exhaustion aborts
/// the process. A function wrapped with [`policy::SPREAD`] returns them.
pub(crate) struct Results {
    t: Table,
    n: usize,
}

impl Results {
    pub(crate) fn new(lua: &Lua) -> mlua::Result<Results> {
        Ok(Results { t: lua.create_table()?, n: 0 })
    }

    pub(crate) fn len(&self) -> usize {
        self.n
    }

    pub(crate) fn push(&mut self, v: impl mlua::IntoLua) -> mlua::Result<()> {
        self.n += 1;
        self.t.raw_set(self.n, v)
    }

    pub(crate) fn last(&self) -> mlua::Result<Value> {
        self.t.raw_get(self.n)
    }

    pub(crate) fn pop(&mut self) -> mlua::Result<()> {
        self.t.raw_set(self.n, Value::Nil)?;
        self.n -= 1;
        Ok(())
    }

    /// What a native function wrapped with [`policy::SPREAD`] returns.
    pub(crate) fn into_return(self) -> (Table, usize) {
        (self.t, self.n)
    }
}

/// How a [`wrap`]per calls its native function. `TRUNCATE` or `PACK` says
/// what happens to a call with more than [`MANY`] arguments: mlua would
/// pin a reference for each object, and running out of those aborts the
/// process.
pub(crate) mod policy {
    /// Only the first [`super::MANY`] arguments are passed: for functions
    /// of a few arguments, whose answer to too many does not depend on how
    /// many.
    pub const TRUNCATE: i64 = 1;
    /// The arguments are passed in a table (see [`super::packed`]).
    pub const PACK: i64 = 2;
    /// Errors raised by the native function name the wrapper and the
    /// script's line, as if the script had called the native directly.
    pub const NAMED: i64 = 8;
    /// The native function returns `(table, n)`, and the wrapper returns
    /// the table's first `n` items: as many results as a C function can
    /// leave on Lua's stack, with no reference held per result.
    pub const SPREAD: i64 = 16;

    /// Arguments past the first `n` are dropped before the call.
    pub const fn keep(n: i64) -> i64 {
        n << 8
    }
}

/// More arguments than this are not handed to native functions one by one
/// (see [`policy`]); it is above cmsgpack.pack's own limit (4000).
const MANY: c_int = 4001;

/// The light userdata that starts a packed argument list.
static PACKED: u8 = 0;

/// A packed argument list: `(table, n)` in place of the arguments.
pub(crate) fn packed(args: &MultiValue) -> Option<(Table, usize)> {
    match (args.front(), args.get(1), args.get(2)) {
        (Some(Value::LightUserData(p)), Some(Value::Table(t)), Some(Value::Integer(n)))
            if std::ptr::eq(p.0 as *const u8, &PACKED) =>
        {
            Some((t.clone(), *n as usize))
        }
        _ => None,
    }
}

/// The arguments of a native function that may be called with them packed
/// (see [`policy::PACK`]): each is read when it is needed, so thousands
/// never pin a reference each. Numbers are read exactly ([`exact_args`]).
pub(crate) enum Args {
    Given(MultiValue),
    Packed(Table, usize),
}

impl Args {
    pub(crate) fn new(lua: &Lua, mut args: MultiValue) -> Args {
        match packed(&args) {
            Some((t, n)) => Args::Packed(t, n),
            None => {
                exact_args(lua, &mut args);
                Args::Given(args)
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Args::Given(v) => v.len(),
            Args::Packed(_, n) => *n,
        }
    }

    /// Argument `narg` (1-based); `None` past the last ("no value").
    pub(crate) fn get(&self, narg: usize) -> mlua::Result<Option<Value>> {
        if narg == 0 || narg > self.len() {
            return Ok(None);
        }
        Ok(Some(match self {
            Args::Given(v) => v[narg - 1].clone(),
            Args::Packed(t, _) => {
                let key = Value::Integer(narg as i64);
                exact_field(t, &key, t.raw_get(narg)?)
            }
        }))
    }
}

/// The library function over `native`: a C closure, so that a script's
/// tail call of it keeps the script's frame (errors keep their names and
/// lines), which applies `policy`.
pub(crate) fn wrap(lua: &Lua, native: Function, policy: i64) -> mlua::Result<Function> {
    // Safety: pushes one closure over the two values exec_raw pushed;
    // `wrapper` follows the lua_CFunction contract.
    unsafe { lua.exec_raw((native, policy), |state| ffi::lua_pushcclosure(state, wrapper, 2)) }
}

/// A library function whose native function is looked up at each call in
/// the registry under `key`: the functions bound to one running script
/// (`redis.call` and the like) can then be swapped per run while the
/// function a script holds stays the same, as in Redis.
pub(crate) fn wrap_slot(lua: &Lua, key: &str, policy: i64) -> mlua::Result<Function> {
    let key = lua.create_string(key)?;
    // Safety: as in `wrap`; `wrapper` reads a string first upvalue as a
    // registry key.
    unsafe { lua.exec_raw((key, policy), |state| ffi::lua_pushcclosure(state, wrapper, 2)) }
}

/// Wraps every function of a library table with `NAMED | TRUNCATE`, or
/// the policy `special` gives its name.
pub(crate) fn wrap_table(lua: &Lua, t: &Table, special: &[(&str, i64)]) -> mlua::Result<()> {
    let names: Vec<String> = t
        .pairs::<Value, Value>()
        .filter_map(|kv| match kv {
            Ok((Value::String(k), Value::Function(_))) => Some(k.to_string_lossy()),
            _ => None,
        })
        .collect();
    for name in names {
        let f: Function = t.raw_get(name.as_str())?;
        let p = special.iter().find(|(n, _)| *n == name).map_or(policy::NAMED | policy::TRUNCATE, |(_, p)| *p);
        t.raw_set(name.as_str(), wrap(lua, f, p)?)?;
    }
    Ok(())
}

unsafe extern "C-unwind" fn wrapper(l: *mut ffi::lua_State) -> c_int {
    // Safety: `l` is the state Lua called us with (a C function has
    // LUA_MINSTACK free slots); no Rust value with a destructor is alive
    // when lua_error unwinds out of here.
    unsafe {
        let p = ffi::lua_tointeger(l, ffi::lua_upvalueindex(2));
        let mut nargs = ffi::lua_gettop(l);
        let keep = (p >> 8) as c_int;
        if keep > 0 && nargs > keep {
            ffi::lua_settop(l, keep);
            nargs = keep;
        }
        if nargs > MANY {
            if p & policy::TRUNCATE != 0 {
                ffi::lua_settop(l, MANY);
                nargs = MANY;
            } else if p & policy::PACK != 0 {
                ffi::lua_createtable(l, nargs, 0);
                for i in 1..=nargs {
                    ffi::lua_pushvalue(l, i);
                    ffi::lua_rawseti(l, -2, i.into());
                }
                ffi::lua_replace(l, 2);
                ffi::lua_settop(l, 2);
                ffi::lua_pushlightuserdata(l, &PACKED as *const u8 as *mut std::ffi::c_void);
                ffi::lua_replace(l, 1);
                ffi::lua_pushinteger(l, nargs.into());
                nargs = 3;
            } else {
                // Every wrapper truncates or packs; a guard for a new one.
                return ffi::luaL_error(l, c"too many arguments".as_ptr());
            }
        }
        keep_exact(l, nargs);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        if ffi::lua_type(l, -1) == ffi::LUA_TSTRING {
            ffi::lua_rawget(l, ffi::LUA_REGISTRYINDEX);
        }
        ffi::lua_insert(l, 1);
        if p & policy::NAMED != 0 {
            set_wrapped(l, true);
            let status = ffi::lua_pcall(l, nargs, ffi::LUA_MULTRET, 0);
            set_wrapped(l, false);
            if status != 0 {
                ffi::lua_error(l);
            }
        } else {
            ffi::lua_call(l, nargs, ffi::LUA_MULTRET);
        }
        if p & policy::SPREAD == 0 {
            return ffi::lua_gettop(l);
        }
        // (t, n): only t stays below the results, so up to
        // LUAI_MAXCSTACK - 1 fit, as for a C function with one argument.
        let n = ffi::lua_tointeger(l, 2).clamp(0, c_int::MAX as ffi::lua_Integer) as c_int;
        ffi::lua_settop(l, 1);
        if n > 0 && ffi::lua_checkstack(l, n) == 0 {
            return ffi::luaL_error(l, c"too many results to unpack".as_ptr());
        }
        for i in 1..=n {
            ffi::lua_rawgeti(l, 1, i.into());
        }
        n
    }
}

/// Stores the number arguments mlua would read as integer 0 (zero, -0 and
/// tiny numbers) where [`exact_args`] finds them. Only such an argument is
/// looked up there, and its call has just written that slot, so what a
/// native reads is its own call's.
unsafe fn keep_exact(l: *mut ffi::lua_State, nargs: c_int) {
    // Safety: indexes 1..=nargs are the arguments; two more slots are
    // within the LUA_MINSTACK a C function has.
    unsafe {
        let mut table = false;
        for i in 1..=nargs {
            if ffi::lua_type(l, i) == ffi::LUA_TNUMBER && ffi::lua_tonumber(l, i).abs() < f64::EPSILON {
                if !table {
                    // One table for the interpreter's life: what a call
                    // writes is all that call reads.
                    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, c"ferrokv.exact".as_ptr());
                    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
                        ffi::lua_pop(l, 1);
                        ffi::lua_createtable(l, 0, 0);
                        ffi::lua_pushvalue(l, -1);
                        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, c"ferrokv.exact".as_ptr());
                    }
                    table = true;
                }
                ffi::lua_pushvalue(l, i);
                ffi::lua_rawseti(l, -2, i.into());
            }
        }
        if table {
            ffi::lua_pop(l, 1);
        }
    }
}

unsafe fn set_wrapped(l: *mut ffi::lua_State, on: bool) {
    // Safety: the caller's state, with room for one more value.
    unsafe {
        ffi::lua_pushboolean(l, on as c_int);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, c"ferrokv.wrapped".as_ptr());
    }
}

/// Where a [`wrap`]per leaves the exact values of the number arguments
/// mlua would misread (see [`exact_args`]).
const EXACT: &str = "ferrokv.exact";

/// mlua's Lua 5.1 build reads -0.0 and numbers smaller than
/// `f64::EPSILON` in magnitude as the integer 0. A native function that
/// needs its numbers exact (to encode or pass them on) calls this first:
/// its wrapper kept each such argument in a table, read back here as a
/// float, which is exact.
pub(crate) fn exact_args(lua: &Lua, args: &mut MultiValue) {
    if !args.iter().any(|v| matches!(v, Value::Integer(0))) {
        return;
    }
    let Ok(exact) = lua.named_registry_value::<Table>(EXACT) else {
        return;
    };
    for (i, v) in args.iter_mut().enumerate() {
        if matches!(v, Value::Integer(0)) {
            if let Ok(n) = exact.raw_get::<f64>(i + 1) {
                *v = Value::Number(n);
            }
        }
    }
}

/// The same repair for a value read out of table `t` under `key`.
pub(crate) fn exact_field(t: &mlua::Table, key: &Value, v: Value) -> Value {
    match v {
        Value::Integer(0) => t.raw_get::<f64>(key.clone()).map_or(v, Value::Number),
        v => v,
    }
}

/// The type name `luaL_typename` gives an argument (`None`: missing).
fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::LightUserData(_)) => "userdata",
        Some(v) => v.type_name(),
    }
}

/// `luaL_typerror`: `<tname> expected, got <type>`.
fn type_error(lua: &Lua, v: Option<&Value>, narg: usize, tname: &str) -> mlua::Error {
    arg_error(lua, narg as i64, format!("{tname} expected, got {}", type_name(v)))
}

/// `lua_tonumber`'s conversion: numbers, and strings that hold one whole
/// number (Lua's `luaO_str2d`: strtod, then trailing spaces only).
pub(crate) fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => str2d(&s.as_bytes()),
        _ => None,
    }
}

fn str2d(s: &[u8]) -> Option<f64> {
    // A Lua string reaches C as a C string: it ends at its first NUL.
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let (v, used, _) = crate::types::zset::strtod(s);
    if used == 0 {
        return None;
    }
    s[used..].iter().all(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).then_some(v)
}

/// `lua_tolstring`'s conversion: strings, and numbers as `%.14g`.
pub(crate) fn to_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(fmt_number(*i as f64).into_bytes()),
        Value::Number(n) => Some(fmt_number(*n).into_bytes()),
        _ => None,
    }
}

/// `luaL_checknumber` on argument `narg` (1-based).
pub(crate) fn check_number(lua: &Lua, args: &MultiValue, narg: usize) -> mlua::Result<f64> {
    number_arg(lua, args.get(narg - 1), narg)
}

/// `luaL_checknumber` of argument `narg`, given as `v`.
pub(crate) fn number_arg(lua: &Lua, v: Option<&Value>, narg: usize) -> mlua::Result<f64> {
    v.and_then(to_number).ok_or_else(|| type_error(lua, v, narg, "number"))
}

/// `luaL_checkinteger`: the number truncated as C's cast does on x86-64
/// (out of range and NaN become `i64::MIN`).
pub(crate) fn check_integer(lua: &Lua, args: &MultiValue, narg: usize) -> mlua::Result<i64> {
    check_number(lua, args, narg).map(c_double_to_i64)
}

/// `luaL_optinteger`: `default` for a missing or nil argument.
pub(crate) fn opt_integer(lua: &Lua, args: &MultiValue, narg: usize, default: i64) -> mlua::Result<i64> {
    match args.get(narg - 1) {
        None | Some(Value::Nil) => Ok(default),
        Some(_) => check_integer(lua, args, narg),
    }
}

/// `luaL_checklstring` on argument `narg`.
pub(crate) fn check_bytes(lua: &Lua, args: &MultiValue, narg: usize) -> mlua::Result<Vec<u8>> {
    bytes_arg(lua, args.get(narg - 1), narg)
}

/// `luaL_checklstring` of argument `narg`, given as `v`.
pub(crate) fn bytes_arg(lua: &Lua, v: Option<&Value>, narg: usize) -> mlua::Result<Vec<u8>> {
    v.and_then(to_bytes).ok_or_else(|| type_error(lua, v, narg, "string"))
}

/// C's `(int64_t)d` as x86-64 computes it (cvttsd2si).
pub(crate) fn c_double_to_i64(d: f64) -> i64 {
    // 2^63: the first double past i64::MAX; NaN is outside every range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// C's `(int)d` as x86-64 computes it: out of range and NaN give
/// `i32::MIN`.
pub(crate) fn c_double_to_i32(d: f64) -> i32 {
    if !(-2_147_483_648.0..2_147_483_648.0).contains(&d) {
        i32::MIN
    } else {
        d as i32
    }
}

/// C's `(uint64_t)d` as gcc compiles it for x86-64: values from 2^63 are
/// converted after subtracting 2^63; what is out of range comes out as 0,
/// negatives wrap through the signed conversion, and NaN (unordered, so
/// "below" 2^63 to the branch) takes the signed path.
pub(crate) fn c_double_to_u64(d: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if d.is_nan() || d < TWO63 {
        c_double_to_i64(d) as u64
    } else {
        (c_double_to_i64(d - TWO63) as u64) ^ (1 << 63)
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
    fn strings_convert_to_numbers_as_lua_reads_them() {
        assert_eq!(str2d(b" 12 "), Some(12.0));
        assert_eq!(str2d(b"0x10"), Some(16.0));
        assert_eq!(str2d(b"1e2\0junk"), Some(100.0));
        assert_eq!(str2d(b"12a"), None);
        assert_eq!(str2d(b""), None);
    }

    #[test]
    fn casts_follow_x86_64() {
        assert_eq!(c_double_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_double_to_i64(1e300), i64::MIN);
        assert_eq!(c_double_to_i64(-2.7), -2);
        assert_eq!(c_double_to_u64(1e300), 0);
        assert_eq!(c_double_to_u64(f64::NAN), 1 << 63);
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_u64(9_223_372_036_854_775_808.0), 1 << 63);
    }
}
