//! Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

use super::string::{store, string_at, Ttl};
use crate::command::args::{int, is};
use crate::command::{CommandSpec, KeySpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult, BIT_OFFSET, SYNTAX};
use crate::keyspace::{Loc, StrEnc};
use crate::notify::class;
use crate::types::string::{
    bitcount, bitop, bitpos, get_signed, get_unsigned, set_field, signed_overflow, unsigned_overflow, BitOp,
    BitposRange, Overflow,
};
use ferrokv_resp::num::parse_i64;

const RO: &[KeySpec] = &[KeySpec::at("RO access", 1)];

/// The bitmap family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, setbit)
        .flags("write denyoom")
        .acl("write bitmap slow")
        .keys(&[KeySpec::at("RW access update", 1)]),
    CommandSpec::new("getbit", 3, getbit).flags("readonly fast").acl("read bitmap fast").keys(RO),
    CommandSpec::new("bitcount", -2, bitcount_cmd).flags("readonly").acl("read bitmap slow").keys(RO),
    CommandSpec::new("bitpos", -3, bitpos_cmd).flags("readonly").acl("read bitmap slow").keys(RO),
    CommandSpec::new("bitop", -4, bitop_cmd)
        .flags("write denyoom")
        .acl("write bitmap slow")
        .keys(&[KeySpec::at("OW update", 2), KeySpec::range("RO access", 3, -1, 1)]),
    CommandSpec::new("bitfield", -2, bitfield).flags("write denyoom").acl("write bitmap slow").keys(&[KeySpec::at(
        "RW access update variable_flags",
        1,
    )
    .notes("This command allows both access and modification of the key")]),
    CommandSpec::new("bitfield_ro", -2, bitfield_ro).flags("readonly fast").acl("read bitmap fast").keys(RO),
];

/// A bit offset (`getBitOffsetFromArgument`); `#N` means N * `bits` when
/// `bits` is given.
fn bit_offset(ctx: &Ctx<'_>, arg: &[u8], bits: Option<u32>) -> Result<u64, CmdError> {
    let (hash, digits) = match (arg.first(), bits) {
        (Some(b'#'), Some(_)) => (true, &arg[1..]),
        _ => (false, arg),
    };
    let mut off = parse_i64(digits).ok_or(BIT_OFFSET)?;
    if hash {
        off = off.wrapping_mul(bits.unwrap_or(1) as i64);
    }
    if off < 0 || (off >> 3) >= ctx.st.cfg.proto_max_bulk_len {
        return Err(BIT_OFFSET);
    }
    Ok(off as u64)
}

/// Finds or creates the string at `key` grown to cover bit `maxbit`
/// (`lookupStringForBitCommand`); returns where it is and whether it was
/// created or grew.
fn string_for_bits(ctx: &mut Ctx<'_>, key: &[u8], maxbit: u64) -> Result<(Loc, bool), CmdError> {
    let bytes = (maxbit >> 3) as usize + 1;
    let now = ctx.now_ms;
    match ctx.lookup_write(key) {
        None => {
            store(ctx.db(), None, key, &vec![0u8; bytes], StrEnc::Raw, Ttl::Clear, now);
            Ok((ctx.db().peek(key).expect("just stored"), true))
        }
        Some(loc) => {
            let old = string_at(ctx.db(), loc)?.len();
            ctx.db().update(loc, |e| {
                let mut e = if old < bytes { e.resize_str(bytes) } else { e };
                e.set_enc(StrEnc::Raw);
                e
            });
            Ok((loc, old < bytes))
        }
    }
}

/// SETBIT key offset value
fn setbit(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(ctx, argv[2], None)?;
    let on = match parse_i64(argv[3]) {
        Some(v @ (0 | 1)) => v as u8,
        _ => return Err(CmdError::fixed("ERR bit is not an integer or out of range")),
    };
    let (loc, grew) = string_for_bits(ctx, argv[1], offset)?;
    let byte = (offset >> 3) as usize;
    let bit = 7 - (offset & 7) as u8;
    let (old, changed) = {
        let mut e = ctx.db().get_mut(loc);
        let s = e.str_mut();
        let old = (s[byte] >> bit) & 1;
        let changed = grew || old != on;
        if changed {
            s[byte] = (s[byte] & !(1 << bit)) | (on << bit);
        }
        (old, changed)
    };
    if changed {
        ctx.changed(1);
        ctx.notify(class::STRING, "setbit", argv[1]);
    }
    ctx.out.int(old as i64);
    Ok(())
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(ctx, argv[2], None)?;
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    let s = string_at(ctx.db(), loc)?;
    let byte = (offset >> 3) as usize;
    let v = s.get(byte).map_or(0, |b| (b >> (7 - (offset & 7))) & 1);
    ctx.out.int(v as i64);
    Ok(())
}

/// BITCOUNT key [start end [BYTE|BIT]]
fn bitcount_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    let s = string_at(ctx.db(), loc)?;
    let range = match argv.len() {
        2 => None,
        4 | 5 => {
            let (start, end) = (int(argv[2])?, int(argv[3])?);
            if start < 0 && end < 0 && start > end {
                ctx.out.int(0);
                return Ok(());
            }
            let isbit = match argv.get(4) {
                None => false,
                Some(a) if is(a, "bit") => true,
                Some(a) if is(a, "byte") => false,
                Some(_) => return Err(SYNTAX),
            };
            Some((start, end, isbit))
        }
        _ => return Err(SYNTAX),
    };
    let n = bitcount(s, range);
    ctx.out.int(n);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
fn bitpos_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let bit = int(argv[2])?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::fixed("ERR The bit argument must be 1 or 0."));
    }
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.int(if bit == 1 { -1 } else { 0 });
        return Ok(());
    };
    let s = string_at(ctx.db(), loc)?;
    let range = match argv.len() {
        3 => None,
        4..=6 => {
            let start = int(argv[3])?;
            let is_bit = match argv.get(5) {
                None => false,
                Some(a) if is(a, "bit") => true,
                Some(a) if is(a, "byte") => false,
                Some(_) => return Err(SYNTAX),
            };
            let end = if argv.len() >= 5 { Some(int(argv[4])?) } else { None };
            Some(BitposRange { start, end, is_bit })
        }
        _ => return Err(SYNTAX),
    };
    let pos = bitpos(s, bit == 1, range);
    ctx.out.int(pos);
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
fn bitop_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let op = match argv[1] {
        a if is(a, "and") => BitOp::And,
        a if is(a, "or") => BitOp::Or,
        a if is(a, "xor") => BitOp::Xor,
        a if is(a, "not") => BitOp::Not,
        _ => return Err(SYNTAX),
    };
    if op == BitOp::Not && argv.len() != 4 {
        return Err(CmdError::fixed("ERR BITOP NOT must be called with a single source key."));
    }
    let mut srcs: Vec<Vec<u8>> = Vec::with_capacity(argv.len() - 3);
    for k in &argv[3..] {
        match ctx.lookup_read(k) {
            Some(loc) => srcs.push(string_at(ctx.db(), loc)?.to_vec()),
            None => srcs.push(Vec::new()),
        }
    }
    let refs: Vec<&[u8]> = srcs.iter().map(|s| s.as_slice()).collect();
    let res = bitop(op, &refs);
    let dest = argv[2];
    let now = ctx.now_ms;
    // An empty result deletes the destination as it is, even when expired
    // (Redis's plain `dbDelete`: a `del`, not an `expired`).
    let found = if res.is_empty() { ctx.db().peek(dest) } else { ctx.lookup_write(dest) };
    if !res.is_empty() {
        store(ctx.db(), found, dest, &res, StrEnc::Raw, Ttl::Clear, now);
        ctx.changed(1);
        ctx.notify(class::STRING, "set", dest);
    } else if let Some(loc) = found {
        drop(ctx.db().remove(loc));
        ctx.changed(1);
        ctx.notify(class::GENERIC, "del", dest);
    }
    ctx.out.int(res.len() as i64);
    Ok(())
}

#[derive(Clone, Copy)]
enum FieldOp {
    Get,
    Set(i64),
    Incr(i64),
}

struct Field {
    op: FieldOp,
    offset: u64,
    bits: u32,
    signed: bool,
    ow: Overflow,
}

fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || {
        CmdError::fixed(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    match parse_i64(&arg[1..]) {
        Some(b) if b >= 1 && ((signed && b <= 64) || (!signed && b <= 63)) => Ok((signed, b as u32)),
        _ => Err(err()),
    }
}

/// BITFIELD key [GET enc off | SET enc off val | INCRBY enc off incr | OVERFLOW WRAP|SAT|FAIL]...
fn bitfield(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, argv, false)
}

/// BITFIELD_RO key [GET enc off ...]
fn bitfield_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, argv, true)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], readonly_cmd: bool) -> CmdResult {
    let mut ops: Vec<Field> = Vec::new();
    let mut ow = Overflow::Wrap;
    let mut highest: u64 = 0;
    let mut writes = false;
    let mut j = 2;
    while j < argv.len() {
        let rem = argv.len() - j - 1;
        let sub = argv[j];
        let op = if is(sub, "get") && rem >= 2 {
            FieldOp::Get
        } else if is(sub, "set") && rem >= 3 {
            FieldOp::Set(0)
        } else if is(sub, "incrby") && rem >= 3 {
            FieldOp::Incr(0)
        } else if is(sub, "overflow") && rem >= 1 {
            let t = argv[j + 1];
            ow = if is(t, "wrap") {
                Overflow::Wrap
            } else if is(t, "sat") {
                Overflow::Sat
            } else if is(t, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::fixed("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(SYNTAX);
        };
        let (signed, bits) = field_type(argv[j + 1])?;
        let offset = bit_offset(ctx, argv[j + 2], Some(bits))?;
        let op = match op {
            FieldOp::Get => FieldOp::Get,
            other => {
                writes = true;
                highest = highest.max(offset + bits as u64 - 1);
                let v = int(argv[j + 3])?;
                if matches!(other, FieldOp::Set(_)) {
                    FieldOp::Set(v)
                } else {
                    FieldOp::Incr(v)
                }
            }
        };
        ops.push(Field { op, offset, bits, signed, ow });
        j += if matches!(op, FieldOp::Get) { 3 } else { 4 };
    }
    // `grew`: the string was created or lengthened, which counts as a
    // change even when no field's value does (Redis's `dirty`).
    let (loc, grew) = if !writes {
        let loc = ctx.lookup_read(argv[1]);
        if let Some(l) = loc {
            string_at(ctx.db(), l)?;
        }
        (loc, false)
    } else {
        if readonly_cmd {
            return Err(CmdError::fixed("ERR BITFIELD_RO only supports the GET subcommand"));
        }
        let (l, grew) = string_for_bits(ctx, argv[1], highest)?;
        (Some(l), grew)
    };
    ctx.out.array(ops.len());
    let mut changes = 0;
    for f in &ops {
        match f.op {
            FieldOp::Get => {
                let v = match loc {
                    Some(l) => {
                        let s = string_at(ctx.db(), l)?;
                        if f.signed {
                            get_signed(s, f.offset, f.bits)
                        } else {
                            get_unsigned(s, f.offset, f.bits) as i64
                        }
                    }
                    None => 0,
                };
                ctx.out.int(v);
            }
            FieldOp::Set(v) | FieldOp::Incr(v) => {
                let is_incr = matches!(f.op, FieldOp::Incr(_));
                let l = loc.expect("writes have a string");
                let reply = {
                    let mut e = ctx.db().get_mut(l);
                    let s = e.str_mut();
                    let (overflow, store_val, reply, same) = if f.signed {
                        let old = get_signed(s, f.offset, f.bits);
                        if is_incr {
                            let (o, nv) = signed_overflow(old, v, f.bits, f.ow);
                            (o, nv as u64, nv, nv == old)
                        } else {
                            let (o, nv) = signed_overflow(v, 0, f.bits, f.ow);
                            (o, nv as u64, old, nv == old)
                        }
                    } else {
                        let old = get_unsigned(s, f.offset, f.bits);
                        if is_incr {
                            let (o, nv) = unsigned_overflow(old, v, f.bits, f.ow);
                            (o, nv, nv as i64, nv == old)
                        } else {
                            let (o, nv) = unsigned_overflow(v as u64, 0, f.bits, f.ow);
                            (o, nv, old as i64, nv == old)
                        }
                    };
                    if overflow && f.ow == Overflow::Fail {
                        None
                    } else {
                        set_field(s, f.offset, f.bits, store_val);
                        Some((reply, grew || !same))
                    }
                };
                match reply {
                    Some((r, changed)) => {
                        ctx.out.int(r);
                        changes += changed as u64;
                    }
                    None => ctx.out.null(),
                }
            }
        }
    }
    ctx.changed(changes);
    if changes > 0 {
        ctx.notify(class::STRING, "setbit", argv[1]);
    }
    Ok(())
}
