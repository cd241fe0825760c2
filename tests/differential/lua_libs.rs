//! The Lua libraries Redis bundles (cjson, cmsgpack, struct, bit, math):
//! fixed calls covering their options and every error path, then generated
//! Lua values, JSON texts, MessagePack streams and struct formats, run on
//! both servers with the replies (or error texts) compared byte for byte.

use proptest::prelude::*;

use crate::strings_keys::{cases, pair};

/// A deterministic printer for whatever a library returns: tables with
/// sorted keys, numbers with 17 digits, strings quoted. Both servers run
/// it, so equal outputs mean equal Lua values.
const DUMP: &str = r#"
local function dump(v, d)
  local t = type(v)
  if t == 'table' then
    if d > 40 then return '<deep>' end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      if ta == 'number' or ta == 'string' then return a < b end
      return tostring(a) < tostring(b)
    end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = dump(k, d + 1) .. '=' .. dump(v[k], d + 1) end
    return '{' .. table.concat(parts, ',') .. '}'
  elseif t == 'number' then return string.format('%.17g', v)
  elseif t == 'string' then return string.format('%q', v)
  elseif t == 'userdata' then return 'null'
  end
  return tostring(v)
end
local function all(...) return dump({n = select('#', ...), ...}, 0) end
"#;

/// Calls whose replies must be byte-identical. Configuration calls come
/// in pairs that restore the default, as the setting outlives the script.
const CASES: &[&str] = &[
    // bit: errors name the argument LuaBitOp checks first (the last one).
    "return bit.band({})",
    "return bit.band(1, 'x', {})",
    "return bit.tohex(1, nil)",
    "return {bit.tobit(2^32 + 5), bit.tohex(-1, 3), bit.ror(1, 1), bit.band('7', ' 3 ')}",
    // cjson decode: tokens, escapes, numbers strtod takes, limits.
    "return cjson.decode('[')",
    "return cjson.decode('[1,')",
    "return cjson.decode('')",
    "return cjson.decode('{\"a\":1,}')",
    "return cjson.decode('[1,]')",
    "return cjson.decode('{1:2}')",
    "return cjson.decode('{\"a\" 1}')",
    "return cjson.decode('\"abc')",
    "return cjson.decode('\"a\\\\qb\"')",
    "return cjson.decode('\"\\\\ud800\"')",
    "return cjson.decode('\"\\\\udc00\\\\u0041\"')",
    "return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\\\\u0000x\"')",
    "return cjson.decode('0x10')",
    "return cjson.decode('-Infinity') < 0",
    "return tostring(cjson.decode('nan'))",
    "return cjson.decode('1.5.3')",
    "return cjson.decode('nul')",
    "return cjson.decode('tru')",
    "return cjson.decode('@')",
    "return cjson.decode(' [1, 2 , 3] ')[3]",
    "return cjson.decode('[1]\\0garbage')[1]",
    "return cjson.decode('a\\0b')",
    "return cjson.decode(string.rep('[', 1001))",
    "return #cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000))",
    "return cjson.decode(string.rep('{\"a\":', 1001))",
    "return cjson.decode()",
    "return cjson.decode({})",
    // cjson encode: arrays, sparse arrays, keys, numbers, nesting.
    "return cjson.encode()",
    "return cjson.encode(1, 2)",
    "return cjson.encode({[1]=1,[2]=2,[20]=3})",
    "return cjson.encode({[1]=1,[2]=2,[5]=3})",
    "return cjson.encode({[0]=1})",
    "return cjson.encode({[1.5]=1})",
    "return cjson.encode({1.5, 'a\\1\\127/\"\\\\'})",
    "return cjson.encode(1/0)",
    "return cjson.encode({[1/0]=1})",
    "return cjson.encode(function() end)",
    "return cjson.encode({[true]=1})",
    "return cjson.encode({0.1, 1e300, 123456789012345678, -5e-324})",
    "return cjson.encode({})",
    "return cjson.encode({a={b={c={}}}})",
    "local t = {} t[1] = t return cjson.encode(t)",
    "return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision()}",
    "return {cjson.encode_sparse_array()}",
    "return {cjson.encode_sparse_array(true, 3, 4)}",
    "return cjson.encode({[1]=1,[9]=2})",
    "return {cjson.encode_sparse_array(false, 2, 10)}",
    "return cjson.encode_number_precision(20)",
    "return cjson.encode_number_precision(3)",
    "return cjson.encode({1/3})",
    "return cjson.encode_number_precision(14)",
    "return cjson.encode_invalid_numbers('maybe')",
    "return cjson.encode_invalid_numbers('null')",
    "return cjson.encode({1/0, -1/0})",
    "return cjson.encode_invalid_numbers(true)",
    "return cjson.encode({1/0, -1/0, 0/0})",
    "return cjson.encode_invalid_numbers(false)",
    "return cjson.decode_invalid_numbers(false)",
    "return cjson.decode('0x10')",
    "return cjson.decode('[+1]')",
    "return cjson.decode('01')",
    "return cjson.decode('-inf')",
    "return cjson.decode_invalid_numbers(true)",
    "return cjson.encode_max_depth(2)",
    "return cjson.encode({{{1}}})",
    "return cjson.encode_max_depth(1000)",
    "return cjson.decode_max_depth(2)",
    "return cjson.decode('[[[1]]]')",
    "return cjson.decode_max_depth(1000)",
    "return cjson.encode_max_depth(1, 2)",
    "return cjson.encode_max_depth(0)",
    "return cjson.encode_keep_buffer(false)",
    "return cjson.encode_keep_buffer(true)",
    "return {cjson._NAME, cjson._VERSION, cjson.new().encode({1})}",
    "return cjson.null == cjson.decode('null')",
    // cmsgpack: every integer width, floats, strings, tables, nesting.
    "return {cjson.encode({[-0]='z'}), cjson.encode({[1e-20]='a', [-1e-300]='b', [2^-60]='c', x=1})}",
    "return cmsgpack.pack({[1e-20]='a', [-1e-300]='b', [2^-60]='c', [0.5]='d'})",
    // As many results as a C function may leave on Lua's stack, and one
    // more; errors raised inside name the function as the caller did.
    "local t = {cmsgpack.unpack(string.rep('\\161a', 7999))} return {#t, t[7999]}",
    "return #{cmsgpack.unpack(string.rep('\\161a', 8000))}",
    "return #{cmsgpack.unpack(string.rep('\\161a', 4000), string.rep('x', 4000))}",
    "return #{cmsgpack.unpack_limit(string.rep('\\161a', 8000), 7998)}",
    "return #{cmsgpack.unpack_limit(string.rep('\\161a', 8000), 7999)}",
    "return #{struct.unpack(string.rep('c1', 7998), string.rep('a', 7998))}",
    "return #{struct.unpack(string.rep('c1', 7999), string.rep('a', 7999))}",
    "local u = cmsgpack.unpack_one return u({})",
    "return struct.unpack({})",
    "return {pcall(cmsgpack.unpack, {})}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}",
    // Thousands of arguments to every native function and thousands of
    // results from a script: Redis's answers, and no crash.
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end return unpack(t)",
    "local t = {'DEL'} for i = 1, 7995 do t[i + 1] = 'x' .. i end return redis.call(unpack(t))",
    "local t = {'DEL'} for i = 1, 7995 do t[i + 1] = 'x' .. i end t[500] = -0 t[501] = {} return redis.pcall(unpack(t))",
    "local t = {'MSET'} for i = 1, 7995 do t[i + 1] = i end return redis.pcall(unpack(t))",
    "local t = {'MSET'} for i = 1, 7996 do t[i + 1] = i end t[7997] = 1e-20 redis.call(unpack(t)) \
     return redis.call('get', '7995')",
    "local t = {} for i = 1, 3999 do t[i] = 'x' end \
     local ok, e = pcall(cmsgpack.unpack_one, string.rep('\\129\\161k', 2990) .. '\\192', 0, unpack(t)) \
     return {tostring(ok), type(e)}",
    "local t = {} local c = t for i = 1, 20000 do c[1] = {} c = c[1] end local ok = pcall(cjson.encode, t) return 1",
    "local t = {} for i = 1, 7990 do t[i] = i end return bit.band(unpack(t))",
    // Variadic functions given thousands of strings read every one.
    "local t = {} for i = 1, 7990 do t[i] = tostring(-i) end return {bit.band(unpack(t)), bit.bor(unpack(t)), bit.bxor(unpack(t))}",
    "local t = {} for i = 1, 7990 do t[i] = '0x' .. i end t[7000] = -0 return bit.bxor(unpack(t))",
    "local t = {} for i = 1, 7990 do t[i] = tostring(i) end t[5000] = 'x' t[6000] = {} return {pcall(bit.bor, unpack(t))}",
    "local t = {} for i = 1, 7990 do t[i] = tostring(i) end t[1] = 'x' t[6000] = 'y' return {pcall(bit.band, unpack(t))}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end return struct.pack(string.rep('s', 7989), unpack(t, 2))",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end return struct.pack(string.rep('c2', 7989) .. 'i', unpack(t, 2))",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end return {pcall(struct.pack, string.rep('s', 7000) .. 'd', unpack(t, 2))}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end return {pcall(struct.pack, string.rep('c9', 7989), unpack(t, 2))}",
    "local t = {} for i = 1, 7990 do t[i] = tostring(i) end t[7989] = 1e-20 return struct.pack(string.rep('i', 7990) .. 'd', 0, unpack(t))",
    "local t = {'get'} for i = 1, 7990 do t[i + 1] = 'x' .. i end return redis.acl_check_cmd(unpack(t))",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end return {pcall(redis.acl_check_cmd, unpack(t))}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(cjson.encode, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(cjson.decode, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(cjson.encode_keep_buffer, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(cmsgpack.pack, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(cmsgpack.unpack, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(cmsgpack.unpack_one, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(struct.unpack, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(struct.size, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(redis.sha1hex, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(redis.log, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(redis.error_reply, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(redis.status_reply, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(redis.setresp, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(redis.set_repl, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(bit.tohex, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(bit.bnot, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(math.random, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(redis.call, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "local t = {} for i = 1, 7990 do t[i] = 'x' .. i end local ok, e = pcall(redis.pcall, unpack(t)) return {tostring(ok), type(e) == 'table' and (e.err or e.ok) or tostring(e)}",
    "return cmsgpack.pack()",
    "return cmsgpack.pack(1, 'a', true, false, nil, 1.5, -1, -33, -129, 128, 256, 65536, 4294967296, -2147483649, 0.1)",
    "return cmsgpack.pack(2^63, -2^63, 2^64, 1/0, -1/0, 1e300, 2^53 + 1)",
    "return cmsgpack.pack({1,2,3}, {a=1}, {}, {[2]=1}, {[1.5]=1}, {[2^40]=1}, cjson.null, function() end)",
    "return cmsgpack.pack(string.rep('x', 31), string.rep('x', 32), string.rep('x', 256), string.rep('x', 65536))",
    "local t = {} t[1] = t return cmsgpack.pack(t)",
    "return cmsgpack.unpack('')",
    "return cmsgpack.unpack('\\193')",
    "return cmsgpack.unpack('\\196\\1x')",
    "return cmsgpack.unpack('\\205\\1')",
    "return cmsgpack.unpack('\\219\\0\\0\\0\\9abc')",
    "return cmsgpack.unpack('\\129\\192\\1')",
    "return cmsgpack.unpack('\\129\\203\\255\\255\\255\\255\\255\\255\\255\\255\\1')",
    "return cmsgpack.unpack(nil)",
    "return cmsgpack.unpack_one('\\1', 'x')",
    "return cmsgpack.unpack_limit('\\1')",
    "return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4)",
    "return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1)",
    "return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)",
    "return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}",
    "return #{cmsgpack.unpack(string.rep('\\1', 7998))}",
    "return #{cmsgpack.unpack(string.rep('\\145', 5000))}",
    "return #{cmsgpack.unpack(string.rep('\\145', 3000))}",
    "return cmsgpack.pack(unpack((function() local t = {} for i = 1, 4001 do t[i] = i end return t end)()))",
    // struct: every option, alignment, byte order and error.
    "return struct.pack('i', 'x')",
    "return struct.pack('>i<h!4bBhHlLTfdxc5s', 1, 2, 3, 4, 5, 6, 7, 8, 9, 1.5, 2.5, 'hello', 'zz')",
    "return struct.pack('c5', 'ab')",
    "return struct.pack('z')",
    "return struct.pack('i33', 1)",
    "return struct.pack('!3i', 1)",
    "return struct.pack('!i', 1)",
    "return struct.pack('i99999999999', 1)",
    "return struct.pack('bb', 1)",
    "return struct.pack('bbb', 1)",
    "return struct.pack('bc', 1)",
    "return struct.pack('b')",
    "return struct.pack()",
    "return struct.pack('i12', -1)",
    "return struct.pack('I', 1e300)",
    "return struct.pack('i', -1e300)",
    "return struct.pack('i', 0/0)",
    "return struct.pack('b', '12')",
    "return struct.pack('b', ' 0x10 ')",
    "return struct.pack('>f<f', 1.5, -2.25)",
    "return {struct.size('i'), struct.size('!4bi'), struct.size('!bd'), struct.size('zi'), struct.size('c9'), struct.size('>!2hb')}",
    "return struct.size('s')",
    "return struct.size('c0')",
    "return struct.size('#')",
    "return struct.unpack('i', 'ab')",
    "return struct.unpack('s', 'abc')",
    "return struct.unpack('c0', 'abc')",
    "return struct.unpack('b', 'abc', 0)",
    "return struct.unpack('bi', 'abc')",
    "return struct.unpack('z', 'abc')",
    "return struct.unpack()",
    // math: Redis's generator and lua's argument errors.
    "return math.random(0)",
    "return math.random(3, 1)",
    "return math.random('x')",
    "return math.random(1, 2, 3)",
    // Wide and deep values: replies and encodings of tens of thousands
    // of elements, nesting at the default limits.
    "local t = {} for i = 1, 20000 do t[i] = 'v' .. i end return t",
    "local t = {} for i = 1, 20000 do t[i] = {i, 'x'} end return t",
    "local t = {} for i = 1, 10000 do t['k' .. i] = 'v' end return #cjson.encode(t)",
    "local t = {} for i = 1, 10000 do t['k' .. i] = 'v' end return #cmsgpack.pack(t)",
    "local t = {} for i = 1, 10000 do t[i] = 'v' end return cmsgpack.pack(t) == cmsgpack.pack(unpack(t)) and 1",
    "return #{cmsgpack.unpack(string.rep('\\161a', 5000))}",
    "return #{struct.unpack(string.rep('c1', 5000), string.rep('a', 5000))}",
    "return #cjson.decode('[' .. string.rep('\"a\",', 20000) .. '1]')",
    "return #cjson.encode(cjson.decode(string.rep('{\"a\":', 999) .. '1' .. string.rep('}', 999)))",
    "redis.setresp(3) local t = {} for i = 1, 20000 do t['k' .. i] = 'v' end return #redis.call('hgetall', 'nokey')",
    // How callers are named and where errors point.
    "local f = cmsgpack.pack return f()",
    "return {pcall(cmsgpack.pack)}",
    "return {pcall(struct.pack, 'z')}",
    "\n\nreturn cjson.decode('x')",
    "return cjson.encode_sparse_array:x()",
];

/// Calls run through the printer: multiple results, tables, nulls.
const DUMPED: &[&str] = &[
    "cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2, {x = 'y'}}, 2.5, true, {}))",
    "cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255\\211\\128\\0\\0\\0\\0\\0\\0\\0')",
    "cmsgpack.unpack('\\202\\63\\192\\0\\0\\208\\128\\209\\255\\0\\210\\255\\255\\255\\0\\220\\0\\1\\1\\222\\0\\1\\1\\2')",
    "cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))",
    "cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)",
    "cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)",
    "cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)",
    "cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)",
    "cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)",
    "cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)",
    "cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 9, 1)",
    "cmsgpack.unpack('\\147\\1\\192\\3')",
    "cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":\"\\\\u00e9\",\"d\":-1.5e3,\"e\":false}')",
    "struct.unpack('>i<h!4bBhHlLTfdxc5s', struct.pack('>i<h!4bBhHlLTfdxc5s', -1, 2, -3, 4, 5, 6, 7, 8, 9, 1.5, 2.5, 'hello', 'zz'))",
    "struct.unpack('bc0', '\\3abcd')",
    "struct.unpack('c1c0', '3abcd')",
    "struct.unpack('s', 'ab\\0cd', 1)",
    "struct.unpack('b', 'abc', 2)",
    "struct.unpack('', 'abc', -5)",
    "struct.unpack('i16', string.rep('\\255', 16))",
    "struct.unpack('I9i9', string.rep('\\255', 9) .. string.rep('\\1', 9))",
    "struct.unpack('>I3<i3', '\\1\\2\\3\\255\\255\\128')",
    "struct.unpack('!4bxi', 'a\\0\\0\\0\\1\\0\\0\\0')",
];

fn compare(scripts: impl IntoIterator<Item = String>, argv: &[&[u8]]) -> Vec<String> {
    let mut guard = pair().lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    let mut diffs = Vec::new();
    for s in scripts {
        let mut args: Vec<&[u8]> = vec![b"EVAL", s.as_bytes(), b"0"];
        args.extend_from_slice(argv);
        let (a, b) = (p.fk.cmd_bytes(&args), p.redis.cmd_bytes(&args));
        if a != b {
            diffs.push(format!("{s:?}\n  ferrokv {a:?}\n  redis   {b:?}"));
        }
    }
    diffs
}

/// A fresh interpreter on both sides: library settings outlive scripts.
fn reset() {
    let mut p = pair().lock().unwrap_or_else(|e| e.into_inner());
    p.fk.cmd(&["SCRIPT", "FLUSH"]);
    p.redis.cmd(&["SCRIPT", "FLUSH"]);
}

#[test]
fn library_calls_match_redis() {
    reset();
    let mut diffs = compare(CASES.iter().map(|s| s.to_string()), &[]);
    diffs.extend(compare(DUMPED.iter().map(|c| format!("{DUMP} return all({c})")), &[]));
    reset();
    assert!(diffs.is_empty(), "{} calls differ:\n{}", diffs.len(), diffs.join("\n"));
}

/// cjson and cmsgpack at nesting depths up to Lua's stack limit (7,999
/// arrays when decoding JSON, fewer objects or MessagePack levels), where
/// Redis succeeds or fails by running out of stack.
#[test]
fn deep_nesting_matches_redis() {
    let decode_arrays = "cjson.decode_max_depth(20000) local ok, e = pcall(cjson.decode, string.rep('[', N) .. ']') \
         cjson.decode_max_depth(1000) return {tostring(ok), type(e) == 'string' and e or type(e)}";
    let decode_objects =
        "cjson.decode_max_depth(20000) local ok, e = pcall(cjson.decode, string.rep('{\"a\":', N) .. '1') \
         cjson.decode_max_depth(1000) return {tostring(ok), type(e) == 'string' and e or type(e)}";
    let encode_arrays =
        "cjson.encode_max_depth(20000) local t = {} local c = t for i = 1, N do c[1] = {} c = c[1] end \
         local ok, e = pcall(cjson.encode, t) cjson.encode_max_depth(1000) return {tostring(ok), e}";
    let encode_objects =
        "cjson.encode_max_depth(20000) local t = {} local c = t for i = 1, N do c.x = {-0} c = c.x end \
         local ok, e = pcall(cjson.encode, t) cjson.encode_max_depth(1000) return {tostring(ok), e}";
    let unpack_arrays = "local ok, e = pcall(cmsgpack.unpack, string.rep('\\145', N) .. '\\192') return {tostring(ok), type(e) == 'string' and e or type(e)}";
    let unpack_maps =
        "local ok, e = pcall(cmsgpack.unpack, string.rep('\\129\\161k', N) .. '\\203\\128\\0\\0\\0\\0\\0\\0\\0') \
         return {tostring(ok), type(e) == 'string' and e or type(e)}";
    let unpack_limit = "local ok, e, v = pcall(cmsgpack.unpack_limit, string.rep('\\145', N) .. '\\192\\1', 1) return {tostring(ok), e, type(v)}";
    let cases = [
        (unpack_arrays, [3000, 3999, 4000]),
        (unpack_maps, [3000, 3999, 4000]),
        (unpack_limit, [3000, 3999, 4000]),
        (decode_arrays, [7990, 7998, 7999]),
        (decode_objects, [3000, 3999, 4000]),
        (encode_arrays, [7990, 7997, 7998]),
        (encode_objects, [2000, 3998, 3999]),
    ];
    let scripts = cases.iter().flat_map(|(body, ns)| ns.iter().map(move |n| body.replace('N', &n.to_string())));
    let diffs = compare(scripts, &[]);
    reset();
    assert!(diffs.is_empty(), "{} calls differ:\n{}", diffs.len(), diffs.join("\n"));
}

/// Lua source for a random value: numbers at every integer width and
/// float form, binary strings, booleans, and tables that are arrays,
/// arrays with holes, maps, or mixed.
fn lua_value() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<i64>().prop_map(|i| format!("({i})")),
        (-40i64..300).prop_map(|i| format!("({i})")),
        prop::sample::select(
            &[
                "1/0", "-1/0", "2^31", "2^32", "-2^31-1", "2^53", "2^63", "-2^63", "2^64", "0.5", "0.1", "1e300",
                "-3.25", "1/3", "5e-324", "65535", "65536", "-32768", "-32769", "127", "128", "-33",
            ][..]
        )
        .prop_map(|s| format!("({s})")),
        any::<f32>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("({f:e})")),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("({f:e})")),
    ];
    let string =
        prop_oneof![prop::collection::vec(any::<u8>(), 0..40), (0usize..3).prop_map(|k| vec![b'x'; [31, 32, 300][k]]),]
            .prop_map(|b| format!("\"{}\"", b.iter().map(|c| format!("\\{c}")).collect::<String>()));
    let leaf = prop_oneof![number, string, Just("true".to_string()), Just("false".to_string())];
    leaf.prop_recursive(4, 48, 8, |inner| {
        let key = prop_oneof![
            (1i64..12).prop_map(|i| format!("[{i}]")),
            // Zero, -0 and numbers near zero: mlua reads them all as
            // integer 0, so these check that the exact key is encoded.
            prop::sample::select(
                &["[-1]", "[1.5]", "[2^40]", "a", "b", "[\"1\"]", "[true]", "[0]", "[-0]", "[1e-20]", "[-2^-60]"][..]
            )
            .prop_map(|s| s.to_string()),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(|v| format!("{{{}}}", v.join(","))),
            prop::collection::vec((key, inner), 0..6).prop_map(|v| {
                let fields: Vec<String> = v.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// A byte stream built from MessagePack pieces: type bytes of every kind
/// (valid, unsupported and truncated) with random payloads.
fn msgpack_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        (0u8..=0x7f).prop_map(|b| vec![b]),
        (0u8..16).prop_map(|n| vec![0x90 | n]),
        (0u8..16).prop_map(|n| vec![0x80 | n]),
        (0u8..32, prop::collection::vec(any::<u8>(), 0..32)).prop_map(|(n, b)| [vec![0xa0 | n], b].concat()),
        (
            prop::sample::select(
                &[
                    0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xca, 0xcb, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde,
                    0xdf, 0xc0, 0xc2, 0xc3, 0xc4, 0xc1
                ][..]
            ),
            prop::collection::vec(any::<u8>(), 0..10),
        )
            .prop_map(|(t, b)| [vec![t], b].concat()),
        (0usize..2).prop_map(|k| [vec![0xdc, 0x00, 0x05], vec![0xc0; 5]][k].clone()),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

/// A text built from JSON tokens, valid and not.
fn json_text() -> impl Strategy<Value = Vec<u8>> {
    let token = prop::sample::select(
        &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\n",
            "\"a\"",
            "\"b\\\"c\"",
            "\"\\u00e9\"",
            "\"\\ud83d\\ude00\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"open",
            "1",
            "-2.5e3",
            "0",
            "01",
            "1e",
            "+1",
            "0x1F",
            "inf",
            "-Infinity",
            "NaN",
            "nan",
            "true",
            "false",
            "null",
            "nul",
            "tru",
            "@",
            "\u{e9}",
            "\0",
            "1.5.2",
            "9e999",
            "-",
            ".5",
        ][..],
    );
    prop::collection::vec(token, 0..16).prop_map(|v| v.concat().into_bytes())
}

/// A struct format and Lua arguments for it.
fn struct_call() -> impl Strategy<Value = (String, Vec<String>)> {
    let opt = prop_oneof![
        prop::sample::select(
            &["b", "B", "h", "H", "l", "L", "T", "i", "I", "f", "d", "x", "s", "c", "<", ">", "!", " ", "z"][..]
        )
        .prop_map(|s| s.to_string()),
        (prop::sample::select(&["i", "I", "c", "!"][..]), 0u32..20).prop_map(|(o, n)| format!("{o}{n}")),
    ];
    let arg = prop_oneof![
        any::<i32>().prop_map(|i| i.to_string()),
        any::<i64>().prop_map(|i| format!("({i})")),
        prop::sample::select(&["1.5", "-2.25", "1e300", "0/0", "'7'", "'ab'", "'hello world'", "''", "{}"][..])
            .prop_map(|s| s.to_string()),
    ];
    (prop::collection::vec(opt, 0..8).prop_map(|v| v.concat()), prop::collection::vec(arg, 0..8))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 2, max_shrink_iters: 1000, ..ProptestConfig::default() })]

    /// Encoders byte for byte, and what their output decodes back to.
    #[test]
    fn encoded_values_match_redis(v in lua_value()) {
        let scripts = [
            format!("return cmsgpack.pack({v})"),
            format!("return cjson.encode({v})"),
            format!("{DUMP} return all(cmsgpack.unpack(cmsgpack.pack({v}, {v})))"),
            format!("{DUMP} return all(cjson.decode(cjson.encode({v})))"),
            format!("{DUMP} return all({v})"),
        ];
        let diffs = compare(scripts, &[]);
        prop_assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    }

    /// Decoders on arbitrary input: values or the same error.
    #[test]
    fn decoded_bytes_match_redis(mp in msgpack_bytes(), json in json_text(), off in 0i64..6, lim in 0i64..4) {
        let scripts = [
            format!("{DUMP} return all(cmsgpack.unpack(ARGV[1]))"),
            format!("{DUMP} return all(cmsgpack.unpack_one(ARGV[1], {off}))"),
            format!("{DUMP} return all(cmsgpack.unpack_limit(ARGV[1], {lim}, {off}))"),
        ];
        let mut diffs = compare(scripts, &[&mp]);
        diffs.extend(compare([format!("{DUMP} return all(cjson.decode(ARGV[1]))")], &[&json]));
        prop_assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    }

    /// struct.pack / unpack / size on generated formats and arguments.
    #[test]
    fn struct_calls_match_redis((fmt, args) in struct_call()) {
        let list = if args.is_empty() { String::new() } else { format!(", {}", args.join(", ")) };
        let scripts = [
            format!("return struct.pack('{fmt}'{list})"),
            format!("{DUMP} return all(struct.unpack('{fmt}', struct.pack('{fmt}'{list})))"),
            format!("{DUMP} return all(struct.unpack('{fmt}', ARGV[1]))"),
            format!("return struct.size('{fmt}')"),
        ];
        let diffs = compare(scripts, &[b"\x01\x02\x03\xff\x00abc\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90"]);
        prop_assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    }
}
