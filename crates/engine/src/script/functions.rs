//! Redis 7 functions (`functions.c`, `function_lua.c`): libraries of Lua
//! functions loaded with FUNCTION LOAD, kept until deleted or flushed, and
//! called by name with FCALL.
//!
//! A library is Lua code after a `#!lua name=<lib>` line. Loading runs it
//! once with only `redis.register_function`, `redis.log` and the version in
//! reach; the callbacks it registers run later in the full sandbox (their
//! own interpreter, separate from EVAL's), getting keys and arguments as
//! two tables instead of KEYS and ARGV.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use mlua::{Function, HookTriggers, MultiValue, RegistryKey, Value, VmState};

use super::{raise_table, Interp, Kind, ScriptFlags};
use crate::state::State;

/// How long a library's top-level code may run (Redis's LOAD_TIMEOUT_MS).
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// Loaded libraries and their interpreter.
#[derive(Default)]
pub struct Functions {
    lua: Option<Interp>,
    libs: BTreeMap<String, Library>,
    /// Function name, lowercase (FCALL is case-insensitive) → library.
    index: HashMap<String, String>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions").field("libraries", &self.libs.len()).finish()
    }
}

/// One library: its code as loaded (shebang included) and its functions.
pub struct Library {
    /// The name given by `name=`.
    pub name: String,
    /// The code as loaded, shebang line included.
    pub code: Vec<u8>,
    /// Its functions by name.
    pub funcs: BTreeMap<String, Func>,
}

/// A registered function.
pub struct Func {
    /// The `description` it was registered with.
    pub desc: Option<Vec<u8>>,
    /// Its declared flags.
    pub flags: ScriptFlags,
    callback: RegistryKey,
}

impl Functions {
    pub(crate) fn interp(&self) -> Option<&Interp> {
        self.lua.as_ref()
    }

    fn interp_mut(&mut self) -> Result<&mut Interp, String> {
        if self.lua.is_none() {
            self.lua = Some(Interp::new(Kind::Function).map_err(|e| e.to_string())?);
        }
        Ok(self.lua.as_mut().expect("just created"))
    }

    /// The libraries, by name.
    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libs.values()
    }

    /// Number of libraries and of functions (FUNCTION STATS).
    pub fn counts(&self) -> (usize, usize) {
        (self.libs.len(), self.index.len())
    }

    fn link(&mut self, lib: Library) {
        for f in lib.funcs.keys() {
            self.index.insert(f.to_ascii_lowercase(), lib.name.clone());
        }
        self.libs.insert(lib.name.clone(), lib);
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let lib = self.libs.remove(name)?;
        for f in lib.funcs.keys() {
            self.index.remove(&f.to_ascii_lowercase());
        }
        Some(lib)
    }

    /// The first of `lib`'s functions whose name is taken here.
    fn collision<'a>(&self, lib: &'a Library) -> Option<&'a str> {
        lib.funcs.keys().find(|f| self.index.contains_key(&f.to_ascii_lowercase())).map(String::as_str)
    }

    /// Drops every library (FUNCTION FLUSH).
    pub fn flush(&mut self) {
        self.libs.clear();
        self.index.clear();
        if let Some(it) = &self.lua {
            it.lua.expire_registry_values();
        }
    }
}

/// Library and function names: letters, digits and underscores.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

const BAD_NAME: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// The library name of `code`'s `#!<engine> name=<lib>` line
/// (`functionExtractLibMetaData` and the checks after it).
fn metadata(code: &[u8]) -> Result<String, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match ferrokv_resp::split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = parts[0].get(2..).unwrap_or_default();
    let mut name: Option<&[u8]> = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("Invalid metadata value, name argument was given multiple times".into());
            }
            name = Some(&p[5..]);
            continue;
        }
        return Err(format!("Invalid metadata value given: {}", String::from_utf8_lossy(p)));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    if !valid_name(name) {
        return Err(BAD_NAME.into());
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!("Engine '{}' not found", String::from_utf8_lossy(engine)));
    }
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// What redis.register_function collected.
struct Registered {
    name: String,
    desc: Option<Vec<u8>>,
    flags: ScriptFlags,
    callback: Function,
}

/// A string argument as `luaGetStringSds` reads it (numbers count).
fn lua_string(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(i.to_string().into_bytes()),
        Value::Number(n) => Some(super::libs::fmt_number(*n).into_bytes()),
        _ => None,
    }
}

/// Reads redis.register_function's arguments (positional or named).
fn read_registration(args: &MultiValue) -> Result<Registered, &'static str> {
    match args.len() {
        1 => {
            let Value::Table(t) = &args[0] else {
                return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            let (mut name, mut desc, mut callback, mut flags) = (None, None, None, 0u8);
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|_| "named argument key given to redis.register_function is not a string")?;
                let Some(key) = lua_string(&k) else {
                    return Err("named argument key given to redis.register_function is not a string");
                };
                if key.eq_ignore_ascii_case(b"function_name") {
                    name = Some(
                        lua_string(&v)
                            .ok_or("function_name argument given to redis.register_function must be a string")?,
                    );
                } else if key.eq_ignore_ascii_case(b"description") {
                    desc = Some(
                        lua_string(&v)
                            .ok_or("description argument given to redis.register_function must be a string")?,
                    );
                } else if key.eq_ignore_ascii_case(b"callback") {
                    let Value::Function(f) = v else {
                        return Err("callback argument given to redis.register_function must be a function");
                    };
                    callback = Some(f);
                } else if key.eq_ignore_ascii_case(b"flags") {
                    let Value::Table(ft) = v else {
                        return Err(
                            "flags argument to redis.register_function must be a table representing function flags",
                        );
                    };
                    for item in ft.sequence_values::<Value>() {
                        let name = item.ok().as_ref().and_then(lua_string).ok_or("unknown flag given")?;
                        flags |= ScriptFlags::named(&name, true).ok_or("unknown flag given")?;
                    }
                } else {
                    return Err("unknown argument given to redis.register_function");
                }
            }
            let name = name.ok_or("redis.register_function must get a function name argument")?;
            let callback = callback.ok_or("redis.register_function must get a callback argument")?;
            Ok(Registered {
                name: String::from_utf8_lossy(&name).into_owned(),
                desc,
                flags: ScriptFlags(flags),
                callback,
            })
        }
        2 => {
            let name = lua_string(&args[0]).ok_or("first argument to redis.register_function must be a string")?;
            let Value::Function(callback) = &args[1] else {
                return Err("second argument to redis.register_function must be a function");
            };
            Ok(Registered {
                name: String::from_utf8_lossy(&name).into_owned(),
                desc: None,
                flags: ScriptFlags(0),
                callback: callback.clone(),
            })
        }
        _ => Err("wrong number of arguments to redis.register_function"),
    }
}

/// Compiles and runs a library's code, collecting what it registers
/// (`luaEngineCreate`).
fn build(it: &mut Interp, name: String, code: &[u8]) -> Result<Library, String> {
    let body = &code[code.iter().position(|&c| c == b'\n').unwrap_or(code.len())..];
    let chunk = it.chunk(body).map_err(|msg| format!("Error compiling function: {msg}"))?;
    let load_redis = it.load_redis.clone().expect("a function interpreter");
    let registered: RefCell<Vec<Registered>> = RefCell::new(Vec::new());
    let outcome = it.lua.scope(|scope| {
        let register = scope.create_function(|lua, args: MultiValue| {
            let r = read_registration(&args).map_err(|e| raise_table(lua, e))?;
            if !valid_name(r.name.as_bytes()) {
                return Err(raise_table(lua, BAD_NAME));
            }
            let mut regs = registered.borrow_mut();
            if regs.iter().any(|x| x.name == r.name) {
                return Err(raise_table(lua, "Function already exists in the library"));
            }
            regs.push(r);
            Ok(())
        })?;
        load_redis
            .raw_set("register_function", super::libs::wrap(&it.lua, register, super::libs::policy::TRUNCATE)?)?;
        it.set_loading.call::<()>(true)?;
        // A library's top level gets LOAD_TIMEOUT, as in Redis; the engine
        // is held meanwhile and nothing can kill a load.
        let started = std::time::Instant::now();
        it.lua.set_hook(HookTriggers::new().every_nth_instruction(100_000), move |lua, _| {
            if started.elapsed() > LOAD_TIMEOUT {
                // Once raised, the error must not be raised again inside
                // the loader's own error handling.
                lua.remove_hook();
                return Err(raise_table(lua, "FUNCTION LOAD timeout"));
            }
            Ok(VmState::Continue)
        });
        let result: mlua::Result<MultiValue> = it.runner.call(chunk);
        it.lua.remove_hook();
        it.set_loading.call::<()>(false)?;
        load_redis.raw_set("register_function", Value::Nil)?;
        result
    });
    let result = outcome.map_err(|e| format!("Error registering functions: {e}"))?;
    if !matches!(result.front(), Some(Value::Boolean(true))) {
        let msg = match result.get(1) {
            Some(Value::Table(t)) => {
                t.raw_get::<mlua::String>("err").map(|s| s.to_string_lossy()).unwrap_or_else(|_| "ERR".into())
            }
            Some(other) => format!("ERR {}", other.to_string().unwrap_or_default()),
            None => "ERR".into(),
        };
        return Err(format!("Error registering functions: {msg}"));
    }
    let mut funcs = BTreeMap::new();
    for r in registered.into_inner() {
        let callback = it.lua.create_registry_value(r.callback).map_err(|e| e.to_string())?;
        funcs.insert(r.name, Func { desc: r.desc, flags: r.flags, callback });
    }
    if funcs.is_empty() {
        return Err("No functions registered".into());
    }
    Ok(Library { name, code: code.to_vec(), funcs })
}

/// Loads `code` into `into` (`functionsCreateWithLibraryCtx`): the library
/// replaces one of the same name only with `replace`, and none of its
/// functions may exist in another library.
fn create(it: &mut Interp, into: &mut Functions, code: &[u8], replace: bool) -> Result<String, String> {
    let name = metadata(code)?;
    if into.libs.contains_key(&name) && !replace {
        return Err(format!("Library '{name}' already exists"));
    }
    let old = into.unlink(&name);
    let lib = match build(it, name.clone(), code) {
        Ok(lib) => lib,
        Err(e) => {
            if let Some(old) = old {
                into.link(old);
            }
            return Err(e);
        }
    };
    if let Some(f) = into.collision(&lib) {
        let e = format!("Function {f} already exists");
        if let Some(old) = old {
            into.link(old);
        }
        return Err(e);
    }
    into.link(lib);
    Ok(name)
}

/// FUNCTION LOAD [REPLACE] code.
pub fn load(st: &mut State, code: &[u8], replace: bool) -> Result<String, String> {
    let fns = &mut st.functions;
    fns.interp_mut()?;
    let mut it = fns.lua.take().expect("created above");
    let r = create(&mut it, fns, code, replace);
    fns.lua = Some(it);
    r
}

/// FUNCTION DELETE library.
pub fn delete(st: &mut State, name: &[u8]) -> bool {
    let fns = &mut st.functions;
    let found = std::str::from_utf8(name).ok().and_then(|n| fns.unlink(n)).is_some();
    if let Some(it) = &fns.lua {
        it.lua.expire_registry_values();
    }
    found
}

/// The function called `name` (any case), with its registered name.
fn lookup<'a>(st: &'a State, name: &[u8]) -> Option<(&'a String, &'a Func)> {
    let fns = &st.functions;
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    let lib = fns.libs.get(fns.index.get(&lower)?)?;
    lib.funcs.iter().find(|(n, _)| n.to_ascii_lowercase() == lower)
}

/// The function called `name` (any case): its registered name, callback
/// and flags.
pub(crate) fn find(st: &State, name: &[u8]) -> Option<(String, Function, ScriptFlags)> {
    let (fname, f) = lookup(st, name)?;
    let callback = st.functions.lua.as_ref()?.lua.registry_value(&f.callback).ok()?;
    Some((fname.clone(), callback, f.flags))
}

/// The flags of the function called `name`.
pub(crate) fn flags_of(st: &State, name: &[u8]) -> Option<ScriptFlags> {
    lookup(st, name).map(|(_, f)| f.flags)
}

/// The functions' interpreter.
pub(crate) fn lua(st: &State) -> Option<mlua::Lua> {
    st.functions.lua.as_ref().map(|it| it.lua.clone())
}

/// FUNCTION DUMP: every library's code after the FUNCTION2 opcode
/// (LZF-compressed under rdbcompression, as Redis writes it), then the RDB
/// version and CRC64.
pub fn dump(st: &State) -> Vec<u8> {
    let mut p = Vec::new();
    write_libraries(st, &mut p);
    ferrokv_rdb::finish_dump(&mut p);
    p
}

/// Appends every library as RDB records (FUNCTION DUMP's body, and the
/// functions section of an RDB file).
pub fn write_libraries(st: &State, out: &mut Vec<u8>) {
    for lib in st.functions.libs.values() {
        out.push(ferrokv_rdb::OPCODE_FUNCTION2);
        ferrokv_rdb::write_string(out, &lib.code, st.cfg.rdb_compression);
    }
}

/// How FUNCTION RESTORE treats the libraries already loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Drop every loaded library first.
    Flush,
    /// Add; a library that exists already fails the restore.
    Append,
    /// Add, replacing libraries of the same name.
    Replace,
}

/// FUNCTION RESTORE payload [policy]; `Err` is the message after `ERR `.
pub fn restore(st: &mut State, payload: &[u8], policy: Policy) -> Result<(), String> {
    let Some((_, body)) = ferrokv_rdb::verify_dump(payload) else {
        return Err("DUMP payload version or checksum are wrong".into());
    };
    let fns = &mut st.functions;
    fns.interp_mut()?;
    let mut it = fns.lua.take().expect("created above");
    let mut staged = Functions::default();
    let r = read_libraries(&mut it, &mut staged, body);
    fns.lua = Some(it);
    r?;
    match policy {
        Policy::Flush => {
            fns.flush();
            for (_, lib) in std::mem::take(&mut staged.libs) {
                fns.link(lib);
            }
        }
        Policy::Append | Policy::Replace => {
            // All or nothing (`libraryJoin`): set aside what would be
            // replaced, check for function collisions, then link.
            let mut replaced = Vec::new();
            for name in staged.libs.keys() {
                if fns.libs.contains_key(name) {
                    if policy == Policy::Append {
                        return Err(format!("Library {name} already exists"));
                    }
                    replaced.extend(fns.unlink(name));
                }
            }
            let clash = staged.libs.values().find_map(|l| fns.collision(l)).map(str::to_string);
            if let Some(f) = clash {
                for lib in replaced {
                    fns.link(lib);
                }
                return Err(format!("Function {f} already exists"));
            }
            for (_, lib) in std::mem::take(&mut staged.libs) {
                fns.link(lib);
            }
        }
    }
    if let Some(it) = &fns.lua {
        it.lua.expire_registry_values();
    }
    Ok(())
}

/// Loads every library of a payload body into `staged`.
fn read_libraries(it: &mut Interp, staged: &mut Functions, body: &[u8]) -> Result<(), String> {
    let mut r = ferrokv_rdb::Reader::new(body);
    while r.remaining() > 0 {
        let code = match r.read_u8().map_err(|_| "can not read data type")? {
            ferrokv_rdb::OPCODE_FUNCTION2 => r.read_string().map_err(|_| "Failed loading library payload")?,
            ferrokv_rdb::OPCODE_FUNCTION_PRE_GA => {
                // 7.0 release candidates: name, engine, optional
                // description, code; rebuilt as a GA library.
                let name = r.read_string().map_err(|_| "Failed loading library name")?;
                let engine = r.read_string().map_err(|_| "Failed loading engine name")?;
                let has_desc = r.read_len().map_err(|_| "Failed loading library description indicator")?;
                if has_desc != 0 {
                    r.read_string().map_err(|_| "Failed loading library description")?;
                }
                let blob = r.read_string().map_err(|_| "Failed loading library blob")?;
                let mut code =
                    format!("#!{} name={}\n", String::from_utf8_lossy(&engine), String::from_utf8_lossy(&name))
                        .into_bytes();
                code.extend_from_slice(&blob);
                code
            }
            _ => return Err("given type is not a function".into()),
        };
        create(it, staged, &code, false)?;
    }
    Ok(())
}

/// FUNCTION LIST's flags of a function, by name.
pub fn flag_names(flags: ScriptFlags) -> impl Iterator<Item = &'static str> {
    ScriptFlags::NAMES.into_iter().filter(move |(f, _)| flags.has(*f)).map(|(_, n)| n)
}
