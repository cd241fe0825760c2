//! Lua scripting (Redis's `eval.c` and `script_lua.c`): EVAL and friends run
//! a Lua 5.1 chunk whose `redis.call` executes commands through the same
//! dispatcher as a client, under the same engine lock, so a script is atomic
//! exactly as a transaction is.
//!
//! The interpreter is created on first use and reset by SCRIPT FLUSH.
//! Scripts see a read-only global environment holding only what Redis
//! exposes (no `os`, `io`, `debug`, `print`, `loadfile`), and their writes
//! are propagated as the commands they ran, wrapped in MULTI/EXEC, never as
//! the script: a replica does not re-run a non-deterministic script.

pub mod busy;
pub mod functions;
mod libs;
mod pairs;
mod reply;

use std::collections::HashMap;

use ferrokv_resp::{Frame, Out, Protocol};
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, RegistryKey, StdLib, Table, Value, VmState};

use crate::client::{self, Client};
use crate::command::flag;
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::exec::{self, Resolved};
use crate::state::State;

/// `NOSCRIPT` for an unknown sha.
pub const NOSCRIPT: CmdError = CmdError::fixed("NOSCRIPT No matching script. Please use EVAL.");

/// The interpreter and the script cache.
#[derive(Default)]
pub struct Scripts {
    lua: Option<Interp>,
    /// Bodies by lowercase sha1 (SCRIPT EXISTS, EVALSHA after a flush of
    /// the interpreter's compiled functions).
    bodies: HashMap<String, Vec<u8>>,
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripts").field("cached", &self.bodies.len()).finish()
    }
}

/// Which of Redis's two Lua worlds an interpreter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// EVAL and friends: scripts named `@user_script`, KEYS/ARGV globals.
    Eval,
    /// FUNCTION libraries: `@user_function`, keys and args as arguments.
    Function,
}

impl Kind {
    fn source(self) -> &'static str {
        match self {
            Kind::Eval => "@user_script",
            Kind::Function => "@user_function",
        }
    }
}

pub(crate) struct Interp {
    lua: Lua,
    kind: Kind,
    /// What scripts may read as globals (behind the read-only environment).
    allowed: Table,
    /// The environment of every script: reads go to `allowed`, writes fail.
    env: Table,
    /// Runs a function under Redis's error handler: `(ok, value)`.
    runner: Function,
    /// Switches globals to the library-loading API and back (functions).
    set_loading: Function,
    /// The real table behind the load API's `redis` (functions).
    load_redis: Option<Table>,
    /// Compiled scripts by sha.
    funcs: HashMap<String, RegistryKey>,
    /// What the per-run functions do between runs (see [`BOUND`]).
    idle: Vec<(&'static str, Function)>,
}

const CALL_SLOT: &str = "ferrokv.call";
const PCALL_SLOT: &str = "ferrokv.pcall";
const SETRESP_SLOT: &str = "ferrokv.setresp";
const SET_REPL_SLOT: &str = "ferrokv.set_repl";

/// The `redis` functions bound to the running script: `(name, registry
/// slot, wrapper policy, error outside a run)`. The function a script sees
/// is permanent (a script may keep it for a later run, as in Redis); at
/// each call it runs what its registry slot holds.
const BOUND: [(&str, &str, i64, &str); 4] = [
    ("call", CALL_SLOT, libs::policy::PACK, "redis.call/pcall can only be called inside a script invocation"),
    ("pcall", PCALL_SLOT, libs::policy::PACK, "redis.call/pcall can only be called inside a script invocation"),
    ("setresp", SETRESP_SLOT, libs::policy::TRUNCATE, "redis.setresp can only be called inside a script invocation"),
    ("set_repl", SET_REPL_SLOT, libs::policy::TRUNCATE, "redis.set_repl can only be called inside a script invocation"),
];

/// The Lua side of the sandbox: Redis's error handler (the error table
/// carries the user script's source and line), the read-only environment
/// and the runner that calls a script under the handler.
const PRELUDE: &str = r#"
local dbg, allowed, last_err, source, load_redis = debug, ...
-- Errors raised by native functions arrive as opaque userdata; the value
-- they meant to raise (Redis's error table or message) was stashed.
local function unwrap(err)
  if type(err) == 'userdata' then
    local v = last_err()
    if v ~= nil then return v end
  end
  return err
end
local handler = function(err)
  err = unwrap(err)
  local i = dbg.getinfo(2, 'nSl')
  -- The frame to blame is the nearest one in the user's script (Redis
  -- looks one level past a C function; natives sit behind a wrapper here).
  local lvl = 2
  while i and i.source ~= source do
    lvl = lvl + 1
    i = dbg.getinfo(lvl, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
local function readonly(t, name)
  return setmetatable({}, {
    __index = t,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
    __metatable = false,
  })
end
-- What globals resolve to: `allowed`, or while a function library loads,
-- only its `redis` table (Redis's LIBRARY_API).
local api = allowed
local function strict(t)
  return setmetatable({}, {
    __index = function(_, k)
      local v = t[k]
      if v == nil then
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
      end
      return v
    end,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
    __metatable = false,
  })
end
local load_api = load_redis and {redis = strict(load_redis)}
local env = setmetatable({}, {
  __index = function(_, k)
    local v = api[k]
    if v == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end
    return v
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})
-- Redis's pcall hands a script the message of an error table, as
-- Redis 6 raised plain strings.
local raw_pcall = pcall
local function fix(ok, ...)
  if ok then return true, ... end
  local e = unwrap((...))
  if type(e) == 'table' and (type(e.err) == 'string' or type(e.err) == 'number') then e = e.err end
  return false, e
end
allowed.pcall = function(...) return fix(raw_pcall(...)) end
for _, lib in ipairs({'string', 'table', 'math', 'bit', 'cjson', 'cmsgpack', 'struct', 'redis', 'coroutine'}) do
  if allowed[lib] then allowed[lib] = readonly(allowed[lib], lib) end
end
allowed._G = env
-- Runs f(...) under the handler: (true, results...) or (false, error).
local runner = function(f, ...)
  local n, args = select('#', ...), {...}
  -- Only the first result is the reply; the rest (up to thousands)
  -- never reach Rust.
  return xpcall(function() return (f(unpack(args, 1, n))) end, handler)
end
local set_loading = function(on)
  if on then api = load_api else api = allowed end
end
return env, runner, set_loading
"#;

/// The error a killed script raises.
const KILLED: &str = "Script killed by user with SCRIPT KILL...";

/// Where a native function leaves the value it raises.
const STASH: &str = "ferrokv.raised";

/// Raises `v` from a native function: scripts and the error handler see
/// `v` itself, as when Redis's C functions call `lua_error`.
pub(crate) fn raise(lua: &Lua, v: impl mlua::IntoLua) -> mlua::Error {
    match lua.set_named_registry_value(STASH, v) {
        Ok(()) => mlua::Error::runtime("raised"),
        Err(e) => e,
    }
}

/// Raises Redis's error table for `msg` (`luaPushError` + `luaError`).
fn raise_table(lua: &Lua, msg: &str) -> mlua::Error {
    match error_table(lua, msg) {
        Ok(t) => raise(lua, t),
        Err(e) => e,
    }
}

/// Globals scripts may read, as Redis's allow list has them.
const ALLOWED_GLOBALS: &[&str] = &[
    "assert",
    "error",
    "ipairs",
    "next",
    "pairs",
    "pcall",
    "rawequal",
    "rawget",
    "rawset",
    "select",
    "setmetatable",
    "getmetatable",
    "tonumber",
    "tostring",
    "type",
    "unpack",
    "xpcall",
    "_VERSION",
    "gcinfo",
    "coroutine",
    "string",
    "table",
    "math",
];

/// What one running script needs from the engine, shared by the
/// `redis.*` callbacks.
struct Run<'a> {
    st: &'a mut State,
    client: Client,
    now_ms: i64,
    read_only: bool,
    resp: Protocol,
    /// Propagate this script's writes (`redis.set_repl`).
    replicate: bool,
    /// Used memory was over maxmemory when the script started and its
    /// flags do not allow that (Redis's `pre_command_oom_state` test).
    oom: bool,
    /// A write command has been called (`SCRIPT_WRITE_DIRTY`).
    dirty: bool,
}

fn lua_err(e: mlua::Error) -> CmdError {
    CmdError::err(format_args!("Error running script: {e}"))
}

impl Interp {
    fn new(kind: Kind) -> mlua::Result<Interp> {
        // The debug library is loaded for the error handler only; scripts
        // cannot reach it (it is not in their environment).
        // Safety: `debug` is never exposed to user scripts.
        let lua = unsafe {
            Lua::unsafe_new_with(StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG, LuaOptions::new())
        };
        let g = lua.globals();
        let allowed = lua.create_table()?;
        for name in ALLOWED_GLOBALS {
            let v: Value = g.get(*name)?;
            if !v.is_nil() {
                allowed.set(*name, v)?;
            }
        }
        // math.random/randomseed: Redis's deterministic generator, reseeded
        // before every script, so a script's randomness is repeatable.
        libs::install_math(&lua, &allowed)?;
        allowed.set("bit", libs::bit(&lua)?)?;
        allowed.set("cjson", libs::cjson(&lua)?)?;
        allowed.set("cmsgpack", libs::cmsgpack(&lua)?)?;
        allowed.set("struct", libs::structs(&lua)?)?;
        allowed.set("redis", redis_table(&lua, kind)?)?;
        let mut idle = Vec::new();
        for (_, slot, _, msg) in BOUND {
            let f = lua.create_function(move |lua, ()| Err::<(), _>(raise_table(lua, msg)))?;
            lua.set_named_registry_value(slot, &f)?;
            idle.push((slot, f));
        }
        let last_err = lua.create_function(|lua, ()| {
            let v: Value = lua.named_registry_value(STASH)?;
            lua.set_named_registry_value(STASH, Value::Nil)?;
            Ok(v)
        })?;
        // While a library loads, `redis` offers only register_function,
        // log and the version (function_lua.c's LIBRARY_API).
        let load_redis = match kind {
            Kind::Eval => None,
            Kind::Function => {
                let full: Table = redis_table(&lua, kind)?;
                let t = lua.create_table()?;
                for name in [
                    "log",
                    "LOG_DEBUG",
                    "LOG_VERBOSE",
                    "LOG_NOTICE",
                    "LOG_WARNING",
                    "REDIS_VERSION",
                    "REDIS_VERSION_NUM",
                ] {
                    t.raw_set(name, full.raw_get::<Value>(name)?)?;
                }
                Some(t)
            }
        };
        let (env, runner, set_loading): (Table, Function, Function) = lua
            .load(PRELUDE)
            .set_name("@redis_prelude")
            .call((allowed.clone(), last_err, kind.source(), load_redis.clone()))?;
        let walk: Function = lua.load(pairs::WALK_LUA).set_name("@redis_walk").eval()?;
        lua.set_named_registry_value(pairs::WALK, walk)?;
        Ok(Interp { lua, kind, allowed, env, runner, set_loading, load_redis, funcs: HashMap::new(), idle })
    }

    /// Compiles `body` as the script `sha` (cached). A shebang line is
    /// blanked rather than cut, so that line numbers stay the user's.
    fn compile(&mut self, sha: &str, body: &[u8]) -> Result<Function, CmdError> {
        if let Some(k) = self.funcs.get(sha) {
            return self.lua.registry_value(k).map_err(lua_err);
        }
        let code = match body.iter().position(|&c| c == b'\n') {
            Some(end) if body.starts_with(b"#!") => &body[end..],
            _ => body,
        };
        let f = self
            .chunk(code)
            .map_err(|msg| CmdError::err(format_args!("Error compiling script (new function): {msg}")))?;
        let key = self.lua.create_registry_value(f.clone()).map_err(lua_err)?;
        self.funcs.insert(sha.to_string(), key);
        Ok(f)
    }

    /// Compiles `code` in the sandbox; `Err` carries Lua's message.
    fn chunk(&self, code: &[u8]) -> Result<Function, String> {
        self.lua.load(code).set_name(self.kind.source()).set_environment(self.env.clone()).into_function().map_err(
            |e| match &e {
                mlua::Error::SyntaxError { message, .. } => message.clone(),
                other => other.to_string(),
            },
        )
    }
}

/// The `redis` table of an interpreter of `kind`.
fn redis_table(lua: &Lua, kind: Kind) -> mlua::Result<Table> {
    let r = lua.create_table()?;
    if kind == Kind::Eval {
        // Without a debugging session (SCRIPT DEBUG), breakpoint answers
        // false and debug prints nothing, as in Redis; functions have
        // neither, nor replicate_commands.
        r.set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
        r.set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
        r.set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
    }
    r.set(
        "sha1hex",
        lua.create_function(|lua, v: MultiValue| {
            if v.len() != 1 {
                return Err(raise_table(lua, "wrong number of arguments"));
            }
            let s = libs::to_bytes(&v[0]).unwrap_or_default();
            Ok(sha1_hex(&s))
        })?,
    )?;
    r.set(
        "error_reply",
        lua.create_function(|lua, v: MultiValue| {
            let t = lua.create_table()?;
            match (v.len(), v.front()) {
                (1, Some(Value::String(s))) => {
                    let s = s.to_string_lossy();
                    let s = if s.starts_with('-') { s } else { format!("-{s}") };
                    t.set("err", error_text(&s))?;
                }
                _ => t.set("err", "ERR wrong number or type of arguments")?,
            }
            Ok(t)
        })?,
    )?;
    r.set(
        "status_reply",
        lua.create_function(|lua, v: MultiValue| {
            let t = lua.create_table()?;
            match (v.len(), v.front()) {
                (1, Some(Value::String(s))) => t.set("ok", s.clone())?,
                _ => t.set("err", "ERR wrong number or type of arguments")?,
            }
            Ok(t)
        })?,
    )?;
    r.set(
        "log",
        lua.create_function(|lua, v: MultiValue| {
            let packed = libs::packed(&v);
            let first = match &packed {
                Some((t, _)) => t.raw_get(1)?,
                None => v.front().cloned().unwrap_or(Value::Nil),
            };
            if packed.is_none() && v.len() < 2 {
                return Err(raise_table(lua, "redis.log() requires two arguments or more."));
            }
            // lua_isnumber / lua_tonumber: numeric strings count.
            let level = match lua.coerce_number(first)? {
                Some(n) => libs::c_double_to_i32(n),
                None => return Err(raise_table(lua, "First argument must be a number (log level).")),
            };
            if !(0..=3).contains(&level) {
                return Err(raise_table(lua, "Invalid debug level."));
            }
            // Every argument after the level as text, each but the first
            // after a space (values without text, such as nil or tables,
            // are skipped, spaces and all, as in Redis).
            let mut text = Vec::new();
            let mut add = |j: usize, x: &Value| {
                if let Some(b) = libs::to_bytes(x) {
                    if j != 1 {
                        text.push(b' ');
                    }
                    text.extend_from_slice(&b);
                }
            };
            match packed {
                Some((t, n)) => {
                    for i in 2..=n {
                        add(i - 1, &t.raw_get::<Value>(i)?);
                    }
                }
                None => v.iter().enumerate().skip(1).for_each(|(j, x)| add(j, x)),
            }
            let text = String::from_utf8_lossy(&text);
            match level {
                0 => tracing::debug!(target: "lua", "{text}"),
                1 | 2 => tracing::info!(target: "lua", "{text}"),
                _ => tracing::warn!(target: "lua", "{text}"),
            }
            Ok(())
        })?,
    )?;
    libs::wrap_table(lua, &r, &[("log", libs::policy::PACK)])?;
    // Wrapped already, each with its own policy.
    for (name, slot, policy, _) in BOUND {
        r.raw_set(name, libs::wrap_slot(lua, slot, policy)?)?;
    }
    // With the default user the only one, every command passes; the
    // argument checks and the lookup are Redis's.
    let acl_check = lua.create_function(|lua, args: MultiValue| {
        let argv = match lua_argv(lua, args)? {
            Ok(argv) => argv,
            Err(msg) => return Err(raise_table(lua, msg)),
        };
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        match exec::lookup(&refs) {
            Some(_) => Ok(true),
            None => Err(raise_table(lua, "Invalid command passed to redis.acl_check_cmd()")),
        }
    })?;
    r.raw_set("acl_check_cmd", libs::wrap(lua, acl_check, libs::policy::PACK)?)?;
    for (name, v) in [("LOG_DEBUG", 0), ("LOG_VERBOSE", 1), ("LOG_NOTICE", 2), ("LOG_WARNING", 3)] {
        r.set(name, v)?;
    }
    for (name, v) in [("REPL_NONE", 0), ("REPL_AOF", 1), ("REPL_SLAVE", 2), ("REPL_REPLICA", 2), ("REPL_ALL", 3)] {
        r.set(name, v)?;
    }
    r.set("REDIS_VERSION", crate::REDIS_VERSION)?;
    r.set("REDIS_VERSION_NUM", 0x0007_000f)?;
    Ok(r)
}

/// Redis's `luaPushErrorBuff`: `-CODE msg` → `CODE msg`, a bare message
/// gets the `ERR` code.
fn error_text(s: &str) -> String {
    let trimmed = s.trim_end_matches(['\r', '\n']);
    match trimmed.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, msg)) => format!("{code} {}", msg.trim_matches(['\r', '\n'])),
            None => format!("ERR {rest}"),
        },
        None => format!("ERR {trimmed}"),
    }
}

/// The lowercase hex SHA-1 of `data`.
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

fn interp(st: &mut State) -> Result<&mut Interp, CmdError> {
    if st.scripts.lua.is_none() {
        st.scripts.lua = Some(Interp::new(Kind::Eval).map_err(lua_err)?);
    }
    Ok(st.scripts.lua.as_mut().expect("just created"))
}

/// SCRIPT LOAD: compiles and caches `body`, returning its sha.
pub fn load(st: &mut State, body: &[u8]) -> Result<String, CmdError> {
    let sha = sha1_hex(body);
    shebang_flags(body)?;
    interp(st)?.compile(&sha, body)?;
    st.scripts.bodies.insert(sha.clone(), body.to_vec());
    Ok(sha)
}

/// SCRIPT EXISTS for one sha.
pub fn exists(st: &State, sha: &[u8]) -> bool {
    std::str::from_utf8(sha).is_ok_and(|s| st.scripts.bodies.contains_key(&s.to_ascii_lowercase()))
}

/// SCRIPT FLUSH: forgets every script and resets the interpreter.
pub fn flush(st: &mut State) {
    st.scripts = Scripts::default();
}

/// What scripting holds in memory, for INFO's memory section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    /// The EVAL interpreter's Lua heap (0 before the first script).
    pub vm_eval: usize,
    /// The cached script bodies and their index.
    pub scripts_eval: usize,
    /// Number of cached scripts.
    pub cached_scripts: usize,
    /// The function interpreter's Lua heap.
    pub vm_functions: usize,
    /// The libraries' code, names and descriptions and their index.
    pub functions: usize,
    /// Number of functions.
    pub functions_count: usize,
    /// Number of libraries.
    pub libraries: usize,
}

/// Bytes an index entry costs beyond its key and value (hash slot,
/// string headers), an estimate in the spirit of Redis's dictMemUsage.
const ENTRY_OVERHEAD: usize = 64;

/// Scripting's memory (INFO `used_memory_vm_*`, `used_memory_scripts*`,
/// `number_of_*`).
pub fn memory(st: &State) -> Memory {
    let vm = |i: Option<&Interp>| i.map_or(0, |i| i.lua.used_memory());
    let f = &st.functions;
    let functions = f
        .libraries()
        .map(|l| {
            let funcs: usize = l
                .funcs
                .iter()
                .map(|(name, func)| 2 * name.len() + func.desc.as_ref().map_or(0, Vec::len) + 2 * ENTRY_OVERHEAD)
                .sum();
            l.name.len() + l.code.len() + ENTRY_OVERHEAD + funcs
        })
        .sum();
    let (libraries, functions_count) = f.counts();
    Memory {
        vm_eval: vm(st.scripts.lua.as_ref()),
        scripts_eval: st.scripts.bodies.iter().map(|(sha, body)| sha.len() + body.len() + ENTRY_OVERHEAD).sum(),
        cached_scripts: st.scripts.bodies.len(),
        vm_functions: vm(f.interp()),
        functions,
        functions_count,
        libraries,
    }
}

/// Script flags: `#!lua flags=...` on EVAL scripts, `flags = {...}` of
/// redis.register_function.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptFlags(u8);

impl ScriptFlags {
    /// The script never writes.
    pub const NO_WRITES: u8 = 1;
    /// The script may run over maxmemory.
    pub const ALLOW_OOM: u8 = 2;
    /// The script may run on a stale replica.
    pub const ALLOW_STALE: u8 = 4;
    /// The script refuses to run in cluster mode.
    pub const NO_CLUSTER: u8 = 8;
    /// The script may touch keys of several slots.
    pub const ALLOW_CROSS_SLOT: u8 = 16;
    /// An EVAL script without a shebang: Redis 6 rules, no flag checks.
    pub const EVAL_COMPAT: u8 = 32;
    /// The flags' names, in the order Redis lists them.
    pub const NAMES: [(u8, &'static str); 5] = [
        (Self::NO_WRITES, "no-writes"),
        (Self::ALLOW_OOM, "allow-oom"),
        (Self::ALLOW_STALE, "allow-stale"),
        (Self::NO_CLUSTER, "no-cluster"),
        (Self::ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];

    /// Whether any of the bits `f` is set.
    pub fn has(self, f: u8) -> bool {
        self.0 & f != 0
    }

    /// The flag called `name`.
    pub fn named(name: &[u8], ignore_case: bool) -> Option<u8> {
        Self::NAMES
            .iter()
            .find(|(_, n)| if ignore_case { n.as_bytes().eq_ignore_ascii_case(name) } else { n.as_bytes() == name })
            .map(|&(f, _)| f)
    }

    /// Whether a script with these flags may not run when memory is over
    /// maxmemory (`scriptFlagsToCmdFlags`' CMD_DENYOOM).
    pub fn deny_oom(self) -> bool {
        !self.has(Self::EVAL_COMPAT) && !self.has(Self::ALLOW_OOM | Self::NO_WRITES)
    }
}

/// The flags of an EVAL script's shebang (`evalExtractShebangFlags`).
pub fn shebang_flags(body: &[u8]) -> Result<ScriptFlags, CmdError> {
    if !body.starts_with(b"#!") {
        return Ok(ScriptFlags(ScriptFlags::EVAL_COMPAT));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err(CmdError::err("Invalid script shebang"));
    };
    let parts = match ferrokv_resp::split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err(CmdError::err("Invalid engine in script shebang")),
    };
    if parts[0] != b"#!lua" {
        return Err(CmdError::err(format_args!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        )));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(CmdError::err(format_args!("Unknown lua shebang option: {}", String::from_utf8_lossy(p))));
        };
        // An empty list names no flag (sdssplitlen of "" is no parts).
        for name in list.split(|&c| c == b',').filter(|_| !list.is_empty()) {
            match ScriptFlags::named(name, false) {
                Some(f) => flags |= f,
                None => {
                    return Err(CmdError::err(format_args!(
                        "Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(name)
                    )))
                }
            }
        }
    }
    Ok(ScriptFlags(flags))
}

/// The script flags EVAL*/FCALL* would run `argv` with, for the gates the
/// dispatcher applies before the command (Redis's `getCommandFlags`).
pub fn command_flags(st: &State, name: &str, argv: &[&[u8]]) -> Option<ScriptFlags> {
    match name {
        "eval" | "eval_ro" => shebang_flags(argv.get(1)?).ok(),
        "evalsha" | "evalsha_ro" => {
            let sha = String::from_utf8_lossy(argv.get(1)?).to_ascii_lowercase();
            shebang_flags(st.scripts.bodies.get(&sha)?).ok()
        }
        "fcall" | "fcall_ro" => functions::flags_of(st, argv.get(1)?),
        _ => None,
    }
}

/// The checks before a script runs (`scriptPrepareForRun`); returns whether
/// it runs read-only.
fn prepare(st: &State, flags: ScriptFlags, ro: bool) -> Result<bool, CmdError> {
    if flags.has(ScriptFlags::EVAL_COMPAT) {
        return Ok(ro);
    }
    if !flags.has(ScriptFlags::NO_WRITES) && ro {
        return Err(CmdError::err("Can not execute a script with write flag using *_ro command."));
    }
    if st.cfg.maxmemory > 0
        && !flags.has(ScriptFlags::ALLOW_OOM | ScriptFlags::NO_WRITES)
        && (st.platform.alloc)().allocated > st.cfg.maxmemory as u64
    {
        return Err(CmdError::fixed(
            "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
        ));
    }
    Ok(ro || flags.has(ScriptFlags::NO_WRITES))
}

/// The number of keys of EVAL*/FCALL* (`argv[2]`), checked against the
/// arguments.
fn numkeys(argv: &[&[u8]], bad: &'static str) -> Result<usize, CmdError> {
    let n = crate::command::args::int(argv[2]).map_err(|_| CmdError::err(bad))?;
    if n > (argv.len() - 3) as i64 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    if n < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    Ok(n as usize)
}

/// EVAL / EVALSHA / EVAL_RO / EVALSHA_RO.
pub fn eval(ctx: &mut Ctx<'_>, argv: &[&[u8]], by_sha: bool, read_only: bool) -> CmdResult {
    exec::feed_monitors(ctx.st, ctx.client, argv);
    let nkeys = numkeys(argv, "value is not an integer or out of range")?;
    let sha = if by_sha {
        let s = String::from_utf8_lossy(argv[1]).to_ascii_lowercase();
        if !ctx.st.scripts.bodies.contains_key(&s) {
            return Err(NOSCRIPT);
        }
        s
    } else {
        sha1_hex(argv[1])
    };
    let body = match ctx.st.scripts.bodies.get(&sha) {
        Some(b) => b.clone(),
        None => argv[1].to_vec(),
    };
    let flags = shebang_flags(&body)?;
    let f = interp(ctx.st)?.compile(&sha, &body)?;
    ctx.st.scripts.bodies.entry(sha.clone()).or_insert(body);
    let read_only = prepare(ctx.st, flags, read_only)?;
    let it = ctx.st.scripts.lua.as_ref().expect("compiled above");
    let (lua, allowed) = (&it.lua, &it.allowed);
    allowed.raw_set("KEYS", string_table(lua, &argv[3..3 + nkeys]).map_err(lua_err)?).map_err(lua_err)?;
    allowed.raw_set("ARGV", string_table(lua, &argv[3 + nkeys..]).map_err(lua_err)?).map_err(lua_err)?;
    run(ctx, Called { kind: Kind::Eval, name: &sha, argv }, f, MultiValue::new(), read_only, flags)
}

/// A Lua array of strings (KEYS, ARGV, a function's keys and args).
fn string_table(lua: &Lua, items: &[&[u8]]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, it) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(it)?)?;
    }
    Ok(t)
}

/// FCALL / FCALL_RO.
pub fn fcall(ctx: &mut Ctx<'_>, argv: &[&[u8]], ro: bool) -> CmdResult {
    exec::feed_monitors(ctx.st, ctx.client, argv);
    let Some((name, f, flags)) = functions::find(ctx.st, argv[1]) else {
        return Err(CmdError::err("Function not found"));
    };
    let nkeys = numkeys(argv, "Bad number of keys provided")?;
    let read_only = prepare(ctx.st, flags, ro)?;
    let lua = functions::lua(ctx.st).expect("a function exists");
    let args = MultiValue::from_vec(vec![
        Value::Table(string_table(&lua, &argv[3..3 + nkeys]).map_err(lua_err)?),
        Value::Table(string_table(&lua, &argv[3 + nkeys..]).map_err(lua_err)?),
    ]);
    run(ctx, Called { kind: Kind::Function, name: &name, argv }, f, args, read_only, flags)
}

/// Which script a run is: its world, its name (sha or function name) and
/// the command that called it.
struct Called<'a> {
    kind: Kind,
    name: &'a str,
    argv: &'a [&'a [u8]],
}

/// Runs `f(args...)` as the script `called`, with `redis.call` and the
/// other per-run functions bound to this call, and replies its result.
fn run(
    ctx: &mut Ctx<'_>,
    called: Called<'_>,
    f: Function,
    args: MultiValue,
    read_only: bool,
    flags: ScriptFlags,
) -> CmdResult {
    let Called { kind, name, argv } = called;
    let oom = !flags.has(ScriptFlags::ALLOW_OOM)
        && ctx.st.cfg.maxmemory > 0
        && (ctx.st.platform.alloc)().allocated > ctx.st.cfg.maxmemory as u64;
    let it = match kind {
        Kind::Eval => ctx.st.scripts.lua.as_ref(),
        Kind::Function => ctx.st.functions.interp(),
    }
    .expect("the function was compiled by this interpreter");
    let (lua, runner, idle) = (it.lua.clone(), it.runner.clone(), it.idle.clone());
    // The script's own connection: the caller's database, RESP2 until
    // redis.setresp, blocking commands in their non-blocking form.
    let mut sclient = Client::new(ctx.client.id, "lua".to_string());
    sclient.db = ctx.client.db;
    sclient.flags = client::DENY_BLOCKING | client::SCRIPT;
    let mark = ctx.st.propagated.len();
    // Past busy-reply-threshold the hook marks the script busy (other
    // clients get BUSY) and aborts it on SCRIPT KILL / FUNCTION KILL.
    let running = ctx.st.running.clone();
    running.start(name, argv, kind == Kind::Eval, ctx.st.functions.counts(), &ctx.st.cfg.requirepass);
    let threshold = ctx.st.cfg.busy_reply_threshold;
    if threshold > 0 {
        let watch = running.clone();
        lua.set_hook(HookTriggers::new().every_nth_instruction(100_000), move |lua, _| {
            if watch.check(threshold as u64) {
                tracing::warn!("Lua script killed by user with SCRIPT KILL.");
                // From now on every line raises, so that a pcall cannot
                // swallow the kill and carry on.
                lua.set_hook(HookTriggers::EVERY_LINE, |lua, _| Err(raise_table(lua, KILLED)));
                return Err(raise_table(lua, KILLED));
            }
            Ok(VmState::Continue)
        });
    }
    let run = std::cell::RefCell::new(Run {
        st: &mut *ctx.st,
        client: sclient,
        now_ms: ctx.now_ms,
        read_only,
        resp: Protocol::Resp2,
        replicate: true,
        oom,
        dirty: false,
    });
    let outcome = lua.scope(|scope| {
        // redis.call raises a failed command's error table; redis.pcall
        // returns it. Both are native, as in Redis, so the caller's frame
        // (and its line, for the error message) stays on the stack.
        let call = scope.create_function(|lua, args: MultiValue| match command(lua, &mut run.borrow_mut(), args)? {
            (true, v) => Ok(v),
            (false, v) => Err(raise(lua, v)),
        })?;
        lua.set_named_registry_value(CALL_SLOT, call)?;
        let pcall = scope.create_function(|lua, args: MultiValue| Ok(command(lua, &mut run.borrow_mut(), args)?.1))?;
        lua.set_named_registry_value(PCALL_SLOT, pcall)?;
        let setresp = scope.create_function(|lua, v: MultiValue| {
            if v.len() != 1 {
                return Err(raise_table(lua, "redis.setresp() requires one argument."));
            }
            let n = c_int_of(lua, v)?;
            run.borrow_mut().resp = match n {
                2 => Protocol::Resp2,
                3 => Protocol::Resp3,
                _ => return Err(raise_table(lua, "RESP version must be 2 or 3.")),
            };
            Ok(())
        })?;
        lua.set_named_registry_value(SETRESP_SLOT, setresp)?;
        let set_repl = scope.create_function(|lua, v: MultiValue| {
            if v.len() != 1 {
                return Err(raise_table(lua, "redis.set_repl() requires two arguments."));
            }
            let flags = c_int_of(lua, v)?;
            if flags & !3 != 0 {
                return Err(raise_table(
                    lua,
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                ));
            }
            run.borrow_mut().replicate = flags != 0;
            Ok(())
        })?;
        lua.set_named_registry_value(SET_REPL_SLOT, set_repl)?;
        let mut call_args = MultiValue::from_vec(vec![Value::Function(f.clone())]);
        call_args.extend(args);
        let result: MultiValue = runner.call(call_args)?;
        let ok = matches!(result.front(), Some(Value::Boolean(true)));
        let value = result.into_iter().nth(1).unwrap_or(Value::Nil);
        let resp = run.borrow().resp;
        // Convert inside the scope: tables are read while still valid.
        let mut out = Out::new(if ctx.out.resp3() { Protocol::Resp3 } else { Protocol::Resp2 });
        let replied = if ok { Ok(reply::write(&lua, &mut out, value, resp)?) } else { Err(script_error(&value, name)) };
        Ok((out, replied))
    });
    for (slot, f) in &idle {
        if let Err(e) = lua.set_named_registry_value(slot, f) {
            tracing::warn!("could not unbind a script's functions: {e}");
        }
    }
    drop(run);
    lua.remove_hook();
    // What clients were answered since the script's last command takes
    // effect before the engine is released.
    busy::apply_late(ctx.st, running.take_late(true), ctx.now_ms);
    running.finish();
    let (out, replied) = outcome.map_err(|e| CmdError::err(format_args!("Error running script {name}, {e}")))?;
    ctx.st.wrap_propagated_since(mark);
    ctx.propagate_nothing();
    // Error replies are counted as Redis counts them: not those redis.call
    // counted already, but the call fails all the same.
    match replied {
        Ok(errors) => {
            for code in &errors.codes {
                ctx.st.count_error(code);
            }
            ctx.failed |= errors.any;
            ctx.out.raw(&out.buf);
            Ok(())
        }
        Err((e, false)) => Err(e),
        Err((e, true)) => {
            ctx.out.error(e.message());
            ctx.failed = true;
            Ok(())
        }
    }
}

/// `(int)lua_tonumber(L, 1)` of a one-argument call: numeric strings are
/// read as numbers, anything else is 0.
fn c_int_of(lua: &Lua, mut v: MultiValue) -> mlua::Result<i32> {
    let first = v.pop_front().unwrap_or(Value::Nil);
    Ok(lua.coerce_number(first)?.map_or(0, libs::c_double_to_i32))
}

/// The error reply of a script that raised: the error table's message,
/// with where it happened when the handler found the user's frame.
/// Also whether the error carries `ignore_error_stats_update` (it came
/// from redis.call and was counted then).
fn script_error(v: &Value, sha: &str) -> (CmdError, bool) {
    let Value::Table(t) = v else {
        return (CmdError::err(format_args!("Error running script {sha}, execution failure")), false);
    };
    let flagged = t.raw_get::<bool>(IGNORE_STATS).unwrap_or(false);
    let msg: String = t.raw_get::<mlua::String>("err").map(|s| s.to_string_lossy()).unwrap_or_default();
    let source: Option<String> = t.raw_get::<mlua::String>("source").ok().map(|s| s.to_string_lossy());
    let line: Option<i64> = t.raw_get::<i64>("line").ok();
    let mut full = msg;
    if let (Some(source), Some(line)) = (source, line) {
        full.push_str(&format!(" script: {sha}, on {source}:{line}."));
    }
    (CmdError::full(full), flagged)
}

/// The field that marks an error table as counted already.
const IGNORE_STATS: &str = "ignore_error_stats_update";

/// A command redis.call/pcall refuses to run (Redis's `scriptCall`
/// checks): counted as an error reply now, and marked so that the script's
/// reply does not count it again.
fn refused(lua: &Lua, st: &mut State, msg: &str) -> mlua::Result<(bool, Value)> {
    let text = error_text(msg);
    st.count_error(crate::error::code_of(&text));
    let t = lua.create_table()?;
    t.raw_set("err", text)?;
    t.raw_set(IGNORE_STATS, true)?;
    Ok((false, Value::Table(t)))
}

/// An error table as `redis.pcall` returns it.
fn error_table(lua: &Lua, msg: &str) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.set("err", error_text(msg))?;
    Ok(Value::Table(t))
}

/// `redis.call` / `redis.pcall`: runs one command as the script's client.
/// Returns `(true, reply)` or `(false, error table)`.
fn command(lua: &Lua, run: &mut Run<'_>, args: MultiValue) -> mlua::Result<(bool, Value)> {
    let late = run.st.running.take_late(false);
    if !late.is_empty() {
        busy::apply_late(run.st, late, run.now_ms);
    }
    let argv = match lua_argv(lua, args)? {
        Ok(argv) => argv,
        Err(msg) => return Ok((false, error_table(lua, msg)?)),
    };
    let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let cmd = match exec::resolve(&refs) {
        Resolved::Command(c) => c,
        Resolved::Rejected(_, Some(_)) => {
            return refused(lua, run.st, "Wrong number of args calling Redis command from script")
        }
        Resolved::Rejected(_, None) => return refused(lua, run.st, "Unknown Redis command called from script"),
    };
    if cmd.has(flag::NOSCRIPT) {
        return refused(lua, run.st, "This Redis command is not allowed from script");
    }
    if run.read_only && (cmd.has(flag::WRITE) || cmd.has(flag::MAY_REPLICATE)) {
        return refused(lua, run.st, "Write commands are not allowed from read-only scripts.");
    }
    // Out of memory at the start, a script may not begin to write (it
    // could not be stopped halfway through later).
    if run.oom && !run.dirty && cmd.has(flag::DENYOOM) {
        return refused(lua, run.st, "-OOM command not allowed when used memory > 'maxmemory'.");
    }
    if cmd.has(flag::WRITE) {
        run.dirty = true;
        run.st.running.wrote();
    }
    let mut out = Out::new(run.resp);
    let mark = run.st.propagated.len();
    exec::call(run.st, &mut run.client, &mut out, cmd, &refs, run.now_ms);
    if !run.replicate {
        run.st.propagated.truncate(mark);
    }
    let frame = match ferrokv_resp::decode(&out.buf) {
        Ok((f, _)) => f,
        Err(_) => return Ok((false, error_table(lua, "ERR bad reply from command")?)),
    };
    let is_err = matches!(frame, Frame::Error(_) | Frame::BlobError(_));
    let v = lua_from_frame(lua, &frame)?;
    Ok((!is_err, v))
}

/// A command's arguments from a Lua call (Redis's `luaArgsToRedisArgv`),
/// or the message of the error the call gets.
fn lua_argv(lua: &Lua, mut args: MultiValue) -> mlua::Result<Result<Vec<Vec<u8>>, &'static str>> {
    // Many arguments come packed in a table (libs::policy::PACK), each
    // read as it is converted.
    let packed = libs::packed(&args);
    let count = match &packed {
        Some((_, n)) => *n,
        None => {
            libs::exact_args(lua, &mut args);
            args.len()
        }
    };
    if count == 0 {
        return Ok(Err("Please specify at least one argument for this redis lib call"));
    }
    let mut argv: Vec<Vec<u8>> = Vec::with_capacity(count);
    for i in 0..count {
        let item;
        let a = match &packed {
            Some((t, _)) => {
                let key = Value::Integer(i as i64 + 1);
                item = libs::exact_field(t, &key, t.raw_get(i + 1)?);
                &item
            }
            None => &args[i],
        };
        match a {
            Value::String(s) => argv.push(s.as_bytes().to_vec()),
            // Numbers become arguments with 17 digits (Redis's "%.17g").
            Value::Integer(i) if i.unsigned_abs() < 100_000_000_000_000_000 => argv.push(i.to_string().into_bytes()),
            Value::Integer(i) => argv.push(libs::fmt_g(*i as f64, 17).into_bytes()),
            Value::Number(n) => argv.push(libs::fmt_g(*n, 17).into_bytes()),
            _ => return Ok(Err("Lua redis lib command arguments must be strings or integers")),
        }
    }
    Ok(Ok(argv))
}

/// A command's reply as a Lua value (Redis's `redisProtocolToLuaType`).
fn lua_from_frame(lua: &Lua, f: &Frame) -> mlua::Result<Value> {
    let single = |k: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(k, v)?;
        Ok(Value::Table(t))
    };
    Ok(match f {
        Frame::Integer(i) => Value::Number(*i as f64),
        Frame::Bulk(b) => Value::String(lua.create_string(b)?),
        Frame::NullBulk | Frame::NullArray => Value::Boolean(false),
        Frame::Null => Value::Nil,
        Frame::Simple(s) => single("ok", Value::String(lua.create_string(s)?))?,
        // The command's error was counted when it failed.
        Frame::Error(e) | Frame::BlobError(e) => {
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string(e)?)?;
            t.raw_set(IGNORE_STATS, true)?;
            Value::Table(t)
        }
        Frame::Array(items) | Frame::Push(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, it) in items.iter().enumerate() {
                t.raw_set(i + 1, lua_from_frame(lua, it)?)?;
            }
            Value::Table(t)
        }
        Frame::Boolean(b) => Value::Boolean(*b),
        Frame::Double(d) => single("double", Value::Number(*d))?,
        Frame::BigNumber(b) => single("big_number", Value::String(lua.create_string(b)?))?,
        Frame::Verbatim(fmt, s) => {
            let inner = lua.create_table()?;
            inner.raw_set("format", lua.create_string(fmt)?)?;
            inner.raw_set("string", lua.create_string(s)?)?;
            single("verbatim_string", Value::Table(inner))?
        }
        Frame::Map(pairs) => {
            let t = lua.create_table()?;
            for (k, v) in pairs {
                t.raw_set(lua_from_frame(lua, k)?, lua_from_frame(lua, v)?)?;
            }
            single("map", Value::Table(t))?
        }
        Frame::Set(items) => {
            let t = lua.create_table()?;
            for it in items {
                t.raw_set(lua_from_frame(lua, it)?, true)?;
            }
            single("set", Value::Table(t))?
        }
        Frame::Attribute(_, inner) => lua_from_frame(lua, inner)?,
    })
}
