//! Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE
//! SSUBSCRIBE SUNSUBSCRIBE PUBLISH SPUBLISH PUBSUB.

use crate::client::{self, ClientKind};
use crate::cmd::keys::help_reply;
use crate::command::{CommandSpec, KeySpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::pubsub::{self, Kind};

const SHARD_KEYS: &[KeySpec] = &[KeySpec::range("not_key", 1, -1, 1)];

/// The pub/sub family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, subscribe).flags("pubsub noscript loading stale").acl("pubsub slow"),
    CommandSpec::new("unsubscribe", -1, unsubscribe).flags("pubsub noscript loading stale").acl("pubsub slow"),
    CommandSpec::new("psubscribe", -2, psubscribe).flags("pubsub noscript loading stale").acl("pubsub slow"),
    CommandSpec::new("punsubscribe", -1, punsubscribe).flags("pubsub noscript loading stale").acl("pubsub slow"),
    CommandSpec::new("ssubscribe", -2, ssubscribe)
        .flags("pubsub noscript loading stale")
        .acl("pubsub slow")
        .keys(SHARD_KEYS),
    CommandSpec::new("sunsubscribe", -1, sunsubscribe)
        .flags("pubsub noscript loading stale")
        .acl("pubsub slow")
        .keys(SHARD_KEYS),
    CommandSpec::new("publish", 3, publish).flags("pubsub loading stale fast").acl("pubsub fast"),
    CommandSpec::new("spublish", 3, spublish)
        .flags("pubsub loading stale fast")
        .acl("pubsub fast")
        .keys(&[KeySpec::at("not_key", 1)]),
    CommandSpec::container("pubsub", -2, PUBSUB_SUBS).acl("slow"),
];

static PUBSUB_SUBS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, pubsub_channels).flags("pubsub loading stale").acl("pubsub slow"),
    CommandSpec::new("numsub", -2, pubsub_numsub).flags("pubsub loading stale").acl("pubsub slow"),
    CommandSpec::new("shardchannels", -2, pubsub_shardchannels).flags("pubsub loading stale").acl("pubsub slow"),
    CommandSpec::new("help", 2, pubsub_help).flags("loading stale").acl("slow"),
    CommandSpec::new("numpat", 2, pubsub_numpat).flags("pubsub loading stale").acl("pubsub slow"),
    CommandSpec::new("shardnumsub", -2, pubsub_shardnumsub).flags("pubsub loading stale").acl("pubsub slow"),
];

/// The words a subscription reply starts with, and how its count is taken.
fn words(kind: Kind) -> (&'static [u8], &'static [u8]) {
    match kind {
        Kind::Channel => (b"subscribe", b"unsubscribe"),
        Kind::Pattern => (b"psubscribe", b"punsubscribe"),
        Kind::Shard => (b"ssubscribe", b"sunsubscribe"),
    }
}

/// The count a (un)subscription reply carries: channels plus patterns, or
/// shard channels alone.
fn count(ctx: &Ctx<'_>, kind: Kind) -> i64 {
    ctx.st.pubsub.of(ctx.client.id).map_or(0, |s| if kind == Kind::Shard { s.shard.len() } else { s.count() }) as i64
}

/// One `[word, name or nil, count]` push.
fn reply(ctx: &mut Ctx<'_>, word: &[u8], name: Option<&[u8]>, kind: Kind) {
    let n = count(ctx, kind);
    let out = &mut *ctx.out;
    out.push(3);
    out.bulk(word);
    match name {
        Some(name) => out.bulk(name),
        None => out.null(),
    }
    out.int(n);
}

/// Keeps the connection's pub/sub mode (flag and client type) in step with
/// its subscriptions.
fn update_mode(ctx: &mut Ctx<'_>) {
    let id = ctx.client.id;
    let on = ctx.st.pubsub.of(id).is_some_and(|s| s.total() > 0);
    if on {
        ctx.client.flags |= client::PUBSUB;
    } else {
        ctx.client.flags &= !client::PUBSUB;
    }
    if let Some(info) = ctx.st.clients.get_mut(&id) {
        match (on, info.kind) {
            (true, ClientKind::Normal) => info.kind = ClientKind::Pubsub,
            (false, ClientKind::Pubsub) => info.kind = ClientKind::Normal,
            _ => {}
        }
        info.flags = ctx.client.flags;
    }
}

fn subscribe_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], kind: Kind) -> CmdResult {
    // A client that expects one reply per command cannot subscribe; MULTI
    // keeps SUBSCRIBE and PSUBSCRIBE for compatibility, not SSUBSCRIBE.
    if ctx.client.has(client::DENY_BLOCKING) && (kind == Kind::Shard || !ctx.client.has(client::MULTI)) {
        let name = String::from_utf8_lossy(words(kind).0).to_ascii_uppercase();
        return Err(CmdError::err(format_args!("{name} isn't allowed for a DENY BLOCKING client")));
    }
    let id = ctx.client.id;
    for name in &argv[1..] {
        ctx.st.pubsub.subscribe(id, kind, name);
        reply(ctx, words(kind).0, Some(name), kind);
    }
    update_mode(ctx);
    Ok(())
}

fn unsubscribe_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], kind: Kind) -> CmdResult {
    let id = ctx.client.id;
    let word = words(kind).1;
    if argv.len() == 1 {
        let names = ctx.st.pubsub.names(id, kind);
        if names.is_empty() {
            reply(ctx, word, None, kind);
        }
        for name in names {
            ctx.st.pubsub.unsubscribe(id, kind, &name);
            reply(ctx, word, Some(&name), kind);
        }
    } else {
        for name in &argv[1..] {
            ctx.st.pubsub.unsubscribe(id, kind, name);
            reply(ctx, word, Some(name), kind);
        }
    }
    update_mode(ctx);
    Ok(())
}

/// SUBSCRIBE channel [channel ...]
fn subscribe(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, argv, Kind::Channel)
}

/// UNSUBSCRIBE [channel ...]
fn unsubscribe(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, argv, Kind::Channel)
}

/// PSUBSCRIBE pattern [pattern ...]
fn psubscribe(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, argv, Kind::Pattern)
}

/// PUNSUBSCRIBE [pattern ...]
fn punsubscribe(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, argv, Kind::Pattern)
}

/// SSUBSCRIBE shardchannel [shardchannel ...]
fn ssubscribe(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, argv, Kind::Shard)
}

/// SUNSUBSCRIBE [shardchannel ...]
fn sunsubscribe(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, argv, Kind::Shard)
}

fn publish_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], shard: bool) -> CmdResult {
    let id = ctx.client.id;
    let n = pubsub::publish(ctx.st, shard, argv[1], argv[2], Some((id, &mut *ctx.out)));
    // Replicas relay messages to their own subscribers.
    ctx.propagate(argv.iter().map(|a| a.to_vec()).collect());
    ctx.out.int(n as i64);
    Ok(())
}

/// PUBLISH channel message
fn publish(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    publish_generic(ctx, argv, false)
}

/// SPUBLISH shardchannel message
fn spublish(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    publish_generic(ctx, argv, true)
}

fn channel_list(ctx: &mut Ctx<'_>, argv: &[&[u8]], shard: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(super::subcommand_syntax(argv));
    }
    let names = ctx.st.pubsub.channel_names(shard, argv.get(2).copied());
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

fn numsub(ctx: &mut Ctx<'_>, argv: &[&[u8]], shard: bool) -> CmdResult {
    // An array of pairs even in RESP3, as Redis 7.0 replies.
    ctx.out.array((argv.len() - 2) * 2);
    for name in &argv[2..] {
        let n = ctx.st.pubsub.numsub(shard, name);
        ctx.out.bulk(name);
        ctx.out.int(n as i64);
    }
    Ok(())
}

/// PUBSUB CHANNELS [pattern]
fn pubsub_channels(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    channel_list(ctx, argv, false)
}

/// PUBSUB SHARDCHANNELS [pattern]
fn pubsub_shardchannels(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    channel_list(ctx, argv, true)
}

/// PUBSUB NUMSUB [channel ...]
fn pubsub_numsub(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    numsub(ctx, argv, false)
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]
fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    numsub(ctx, argv, true)
}

/// PUBSUB NUMPAT
fn pubsub_numpat(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let n = ctx.st.pubsub.numpat();
    ctx.out.int(n as i64);
    Ok(())
}

/// PUBSUB HELP
fn pubsub_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    help_reply(
        ctx,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    )
}
