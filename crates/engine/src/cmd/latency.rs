//! LATENCY: the per-command latency histograms (latency-tracking) and the
//! latency monitor's events (latency-monitor-threshold).

use crate::cmd::keys::help_reply;
use crate::command::{Command, CommandSpec};
use crate::ctx::Ctx;
use crate::error::CmdResult;
use crate::latency::Histogram;
use crate::table;

pub static SPECS: &[CommandSpec] = &[CommandSpec::container("latency", -2, SUBS).acl("slow")];

const MONITOR_TIPS: &[&str] = &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"];

static SUBS: &[CommandSpec] = &[
    CommandSpec::new("help", 2, help).flags("loading stale").acl("slow"),
    CommandSpec::new("histogram", -2, histogram)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous")
        .tips(MONITOR_TIPS),
    CommandSpec::new("history", 3, history)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous")
        .tips(MONITOR_TIPS),
    CommandSpec::new("latest", 2, latest)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous")
        .tips(MONITOR_TIPS),
    CommandSpec::new("reset", -2, reset)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

/// The command named `name` as `lookupCommandBySds` reads it: `name` or
/// `container|sub`.
fn by_fullname(name: &[u8]) -> Option<&'static Command> {
    let mut parts = name.split(|&c| c == b'|');
    let base = table().get(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) => base.sub(sub),
        _ => None,
    }
}

/// One command's cumulative distribution (`fillCommandCDF`).
fn cdf(ctx: &mut Ctx<'_>, name: &str, h: &Histogram) {
    let out = &mut *ctx.out;
    out.bulk(name.as_bytes());
    out.map(2);
    out.bulk(b"calls");
    out.int(h.total() as i64);
    out.bulk(b"histogram_usec");
    let points = h.cumulative();
    out.map(points.len());
    for (usec, calls) in points {
        out.int(usec as i64);
        out.int(calls as i64);
    }
}

/// LATENCY HISTOGRAM [command ...]: every command's distribution, or the
/// named ones' (a container's with its subcommands'); commands without
/// calls are left out.
fn histogram(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut chosen: Vec<&'static Command> = Vec::new();
    if argv.len() == 2 {
        chosen.extend(table().all());
    } else {
        for name in &argv[2..] {
            if let Some(c) = by_fullname(name) {
                chosen.push(c);
                chosen.extend(c.subs.iter());
            }
        }
    }
    let with_data: Vec<(&str, Histogram)> = chosen
        .iter()
        .filter_map(|c| ctx.st.latency[c.id].as_deref().map(|h| (c.fullname.as_str(), h.clone())))
        .collect();
    ctx.out.map(with_data.len());
    for (name, h) in &with_data {
        cdf(ctx, name, h);
    }
    Ok(())
}

/// LATENCY LATEST: `[event, time, latest ms, max ms]` per event.
fn latest(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let out = &mut *ctx.out;
    let events: Vec<_> = ctx.st.latency_events.events().collect();
    out.array(events.len());
    for (name, series) in events {
        let ((time, ms), max) = series.latest();
        out.array(4);
        out.bulk(name.as_bytes());
        out.int(time);
        out.int(ms as i64);
        out.int(max as i64);
    }
    Ok(())
}

/// LATENCY HISTORY event: its `[time, ms]` samples, oldest first.
fn history(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let out = &mut *ctx.out;
    match ctx.st.latency_events.get(argv[2]) {
        None => out.array(0),
        Some(series) => {
            out.array(series.samples().count());
            for &(time, ms) in series.samples() {
                out.array(2);
                out.int(time);
                out.int(ms as i64);
            }
        }
    }
    Ok(())
}

/// LATENCY RESET [event ...]: how many events were forgotten.
fn reset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = if argv.len() == 2 {
        ctx.st.latency_events.reset(None)
    } else {
        argv[2..].iter().map(|e| ctx.st.latency_events.reset(Some(e))).sum()
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// LATENCY HELP
fn help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    help_reply(
        ctx,
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    )
}
