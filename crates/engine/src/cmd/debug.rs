//! DEBUG: the subcommands test tooling relies on, gated by
//! enable-debug-command as in Redis.

use crate::client;
use crate::cmd::keys::idle_seconds;
use crate::cmd::string::{store, Ttl};
use crate::command::args::{is, text};
use crate::command::CommandSpec;
use crate::ctx::Ctx;
use crate::digest;
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{StrEnc, Value};
use crate::types::list::ListRef;
use ferrokv_resp::Protocol;

/// DEBUG.
pub static SPECS: &[CommandSpec] =
    &[CommandSpec::new("debug", -2, debug).flags("admin noscript loading stale protected").acl("admin slow dangerous")];

/// Whether this client may run DEBUG (enable-debug-command no|yes|local).
fn allowed(ctx: &Ctx<'_>) -> bool {
    match ctx.st.cfg.enable_debug {
        1 => true,
        2 => ctx.client.has(client::LOCAL),
        _ => false,
    }
}

/// DEBUG subcommand [arg ...]
fn debug(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if !allowed(ctx) {
        return Err(CmdError::fixed("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
    }
    let sub = argv[1];
    let argc = argv.len();
    if is(sub, "help") && argc == 2 {
        return crate::cmd::keys::help_reply(
            ctx,
            "DEBUG",
            &[
                "DIGEST",
                "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]",
                "    Output a hex signature of the values of all the specified keys.",
                "ERROR <string>",
                "    Return a Redis protocol error with <string> as message. Useful for clients",
                "    unit tests to simulate Redis errors.",
                "LOG <message>",
                "    Write <message> to the server log.",
                "OBJECT <key>",
                "    Show low level info about the `key` and associated value.",
                "POPULATE <count> [<prefix>] [<size>]",
                "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                "    it is used instead of the 'key' prefix. These are not propagated to",
                "    replicas. Cluster slots are not respected so keys not belonging to the",
                "    current node can be created in cluster mode.",
                "PROTOCOL <type>",
                "    Reply with a test value of the specified type. <type> can be: string,",
                "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
                "    true, false.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        );
    }
    if is(sub, "sleep") && argc == 3 {
        // strtod semantics: garbage reads as 0.
        let secs: f64 = std::str::from_utf8(argv[2]).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0.0);
        if secs > 0.0 && secs.is_finite() {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        }
        ctx.out.ok();
    } else if is(sub, "set-active-expire") && argc == 3 {
        ctx.st.active_expire_enabled = atoi(argv[2]) != 0;
        ctx.out.ok();
    } else if is(sub, "object") && argc == 3 {
        let now = ctx.now_ms;
        let fill = ctx.st.cfg.limits.list_max_listpack_size.clamp(-5, (1 << 15) - 1);
        let db = &ctx.st.dbs[ctx.client.db];
        let Some(loc) = db.peek(argv[2]) else {
            return Err(CmdError::fixed("ERR no such key"));
        };
        let e = db.get(loc);
        let mut line = format!(
            "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
            e.key().as_ptr(),
            e.encoding_name(),
            crate::dump::value_len(&e, ctx.st.cfg.rdb_compression),
            e.lru(),
            idle_seconds(e.lru(), now)
        );
        if let Value::List(l) = e.value() {
            // Redis's quicklist details; a short list is one inline node.
            let (nodes, bytes) = match l {
                ListRef::Lp(b) => (1, b.len()),
                ListRef::Quick(q) => (q.node_count(), q.bytes()),
            };
            line.push_str(&format!(
                " ql_nodes:{nodes} ql_avg_node:{:.2} ql_listpack_max:{fill} ql_compressed:0 ql_uncompressed_size:{bytes}",
                l.len() as f64 / nodes.max(1) as f64
            ));
        }
        ctx.out.simple(line.as_bytes());
    } else if is(sub, "digest") && argc == 2 {
        let d = digest::dataset_digest(&ctx.st.dbs);
        ctx.out.simple(d.as_bytes());
    } else if is(sub, "digest-value") && argc >= 2 {
        ctx.out.array(argc - 2);
        for k in &argv[2..] {
            let db = &ctx.st.dbs[ctx.client.db];
            let d = match db.peek(k) {
                Some(loc) => digest::value_digest(Some(&db.get(loc))),
                None => digest::value_digest(None),
            };
            ctx.out.simple(d.as_bytes());
        }
    } else if is(sub, "protocol") && argc == 3 {
        protocol(ctx, argv[2])?;
    } else if is(sub, "error") && argc == 3 {
        return Err(CmdError::full(text(argv[2])));
    } else if is(sub, "log") && argc == 3 {
        tracing::warn!("DEBUG LOG: {}", text(argv[2]));
        ctx.out.ok();
    } else if is(sub, "populate") && (3..=5).contains(&argc) {
        populate(ctx, argv)?;
    } else {
        return Err(super::subcommand_syntax(argv));
    }
    Ok(())
}

/// C's `atoi`: leading digits, anything else 0.
fn atoi(a: &[u8]) -> i64 {
    let s = std::str::from_utf8(a).unwrap_or("").trim_start();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let v: i64 = digits.parse().unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

/// DEBUG POPULATE count [prefix] [size]
fn populate(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let positive = |a: &[u8]| match ferrokv_resp::num::parse_i64(a) {
        Some(v) if v >= 0 => Ok(v as u64),
        Some(_) => Err(CmdError::fixed("ERR value is out of range, must be positive")),
        None => Err(crate::error::NOT_INT),
    };
    let count = positive(argv[2])?;
    let prefix: &[u8] = argv.get(3).copied().unwrap_or(b"key");
    let size = match argv.get(4) {
        Some(a) => positive(a)? as usize,
        None => 0,
    };
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let watching = ctx.st.watches.active_in(db) || ctx.st.tracking.enabled();
    ctx.signal_none();
    for j in 0..count {
        let mut key = prefix.to_vec();
        key.extend_from_slice(format!(":{j}").as_bytes());
        if ctx.lookup_write(&key).is_some() {
            continue;
        }
        let text = format!("value:{j}").into_bytes();
        let val = if size == 0 {
            text
        } else {
            let mut v = vec![0u8; size];
            let n = size.min(text.len());
            v[..n].copy_from_slice(&text[..n]);
            v
        };
        let enc = if val.len() <= 44 { StrEnc::Embstr } else { StrEnc::Raw };
        store(ctx.db(), None, &key, &val, enc, Ttl::Clear, now);
        // Each new key counts as modified for WATCH and tracking (DEBUG has
        // no key positions for the dispatcher to derive that from).
        if watching {
            ctx.signal(db, &key);
        }
    }
    ctx.out.ok();
    Ok(())
}

/// DEBUG PROTOCOL type
fn protocol(ctx: &mut Ctx<'_>, t: &[u8]) -> CmdResult {
    let out = &mut *ctx.out;
    let t = t.to_ascii_lowercase();
    match t.as_slice() {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.int(12345),
        // Redis's literal test value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => out.double(3.141),
        b"bignum" => out.big_number(b"1234567999999999999999999999999999999"),
        b"null" => out.null(),
        b"array" | b"set" => {
            if t == b"set" {
                out.set(3)
            } else {
                out.array(3)
            }
            (0..3).for_each(|i| out.int(i));
        }
        b"map" => {
            out.map(3);
            for i in 0..3 {
                out.int(i);
                out.boolean(i == 1);
            }
        }
        b"attrib" => {
            if out.attribute(1) {
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if out.proto == Protocol::Resp2 {
                return Err(CmdError::fixed("ERR RESP2 is not supported by this command"));
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            out.bulk(b"Some real reply following the push reply");
        }
        b"verbatim" => out.verbatim(b"This is a verbatim\nstring", b"txt"),
        b"true" => out.boolean(true),
        b"false" => out.boolean(false),
        _ => {
            return Err(CmdError::fixed(
                "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ))
        }
    }
    Ok(())
}
