//! LATENCY: the per-command latency histograms (latency-tracking) and the
//! latency monitor's events (latency-monitor-threshold).

use crate::cmd::keys::help_reply;
use crate::command::{Command, CommandSpec};
use crate::config::Value;
use crate::ctx::Ctx;
use crate::error::CmdError;
use crate::error::CmdResult;
use crate::exec::unix_ms;
use crate::latency::{Analysis, Histogram};
use crate::table;

pub static SPECS: &[CommandSpec] = &[CommandSpec::container("latency", -2, SUBS).acl("slow")];

const MONITOR_TIPS: &[&str] = &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"];

static SUBS: &[CommandSpec] = &[
    CommandSpec::new("help", 2, help).flags("loading stale").acl("slow"),
    CommandSpec::new("histogram", -2, histogram)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous")
        .tips(MONITOR_TIPS),
    CommandSpec::new("doctor", 2, doctor)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous")
        .tips(MONITOR_TIPS),
    CommandSpec::new("graph", 3, graph)
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

/// LATENCY GRAPH event: an ASCII picture of its samples.
fn graph(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = unix_ms() / 1000;
    let Some((name, series)) =
        std::str::from_utf8(argv[2]).ok().and_then(|e| ctx.st.latency_events.events().find(|(n, _)| n.as_str() == e))
    else {
        return Err(CmdError::err(format_args!(
            "No samples available for event '{}'",
            String::from_utf8_lossy(argv[2])
        )));
    };
    let picture = series.graph(name, now);
    ctx.out.verbatim(picture.as_bytes(), b"txt");
    Ok(())
}

/// LATENCY DOCTOR: Redis's report of the events, with its advice.
fn doctor(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let st = &*ctx.st;
    let cfg = &st.cfg;
    let report = report(&Setting {
        events: st.latency_events.events().map(|(n, s)| (n.as_str(), s.analysis(unix_ms() / 1000))).collect(),
        threshold_ms: cfg.latency_monitor_threshold,
        slowlog_slower_than_us: cfg.slowlog_slower_than,
        hz: cfg.hz,
        fsync_always: matches!(cfg.get("appendfsync"), Value::Enum(1)),
        anon_huge_pages: (st.platform.anon_huge_pages)(),
    });
    ctx.out.verbatim(report.as_bytes(), b"txt");
    Ok(())
}

/// What LATENCY DOCTOR looks at.
struct Setting<'a> {
    events: Vec<(&'a str, Analysis)>,
    threshold_ms: i64,
    slowlog_slower_than_us: i64,
    hz: i64,
    fsync_always: bool,
    anon_huge_pages: u64,
}

/// Advice LATENCY DOCTOR can give, in the order it gives it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Advice {
    BetterVm,
    SlowlogEnable,
    SlowlogTune,
    SlowlogInspect,
    Scheduler,
    LocalDisk,
    Ssd,
    DataWriteback,
    DiskContention,
    NoAppendfsync,
    RelaxFsync,
    WriteLoad,
    Hz,
    LargeObjects,
    MassEviction,
    DisableThp,
}

/// `createLatencyReport`. Redis counts advice per event even when it ends
/// up printing nothing for it (hz already high, fsync not `always`): that
/// count, not what is printed, chooses the closing paragraph.
fn report(s: &Setting<'_>) -> String {
    use Advice::*;
    if s.events.is_empty() && s.threshold_ms == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string();
    }
    let mut out = String::new();
    let mut advice: Vec<Advice> = Vec::new();
    let mut counted = 0;
    for (i, (event, a)) in s.events.iter().enumerate() {
        if i == 0 {
            out.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        out.push_str(&format!(
            "{}. {event}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            i + 1,
            a.samples,
            a.avg,
            a.mad,
            a.period as f64 / a.samples as f64,
            a.all_time_high
        ));
        let given: &[Advice] = match event.to_ascii_lowercase().as_str() {
            // ferrokv does not fork; a "fork" event can only be empty.
            "fork" => {
                out.push_str(" Fork rate is 0.00 GB/sec (terrible).");
                &[BetterVm]
            }
            "command" => {
                if s.slowlog_slower_than_us < 0 {
                    advice.push(SlowlogEnable);
                    counted += 1;
                } else if s.slowlog_slower_than_us / 1000 > s.threshold_ms {
                    advice.push(SlowlogTune);
                    counted += 1;
                }
                &[SlowlogInspect, LargeObjects]
            }
            "fast-command" => &[Scheduler],
            "aof-write-pending-fsync" => &[LocalDisk, DiskContention, Ssd, DataWriteback],
            "aof-write-active-child" => &[NoAppendfsync, DataWriteback, Ssd],
            "aof-write-alone" => &[LocalDisk, DataWriteback, Ssd],
            "aof-fsync-always" => &[RelaxFsync],
            "aof-fstat" | "rdb-unlink-temp-file" => &[DiskContention, LocalDisk],
            "aof-rewrite-diff-write" | "aof-rename" => &[WriteLoad, DataWriteback, Ssd, LocalDisk],
            "expire-cycle" => &[Hz, LargeObjects],
            "eviction-del" => &[LargeObjects],
            "eviction-cycle" => &[MassEviction],
            _ => &[],
        };
        advice.extend_from_slice(given);
        counted += given.len();
        out.push('\n');
    }
    if s.anon_huge_pages > 0 {
        advice.push(DisableThp);
        counted += 1;
    }
    if s.events.is_empty() && counted == 0 {
        out.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        return out;
    }
    if counted == 0 {
        out.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        return out;
    }
    out.push_str("\nI have a few advices for you:\n\n");
    advice.sort_unstable();
    advice.dedup();
    let threshold_us = s.threshold_ms * 1000;
    for a in advice {
        let text = match a {
            BetterVm => "- If you are using a virtual machine, consider upgrading it with a faster one using a hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() performance. Even in the context of the same VM provider, certain kinds of instances can execute fork faster than others.\n".to_string(),
            SlowlogEnable => format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold_us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"),
            SlowlogTune => format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold_us}'.\n"),
            SlowlogInspect => "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n".to_string(),
            Scheduler => "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n".to_string(),
            LocalDisk => "- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n".to_string(),
            Ssd => "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage and smaller final AOF rewrite buffer flushes). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n".to_string(),
            DataWriteback => "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n".to_string(),
            DiskContention => "- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n".to_string(),
            NoAppendfsync => "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n".to_string(),
            RelaxFsync if s.fsync_always => "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n".to_string(),
            WriteLoad => "- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n".to_string(),
            Hz if s.hz < 100 => "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n".to_string(),
            LargeObjects => "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n".to_string(),
            MassEviction => "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n".to_string(),
            DisableThp => "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n".to_string(),
            RelaxFsync | Hz => String::new(),
        };
        out.push_str(&text);
    }
    out
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
