//! INFO: Redis's sections and field names, printing only what is true here.

use std::fmt::Write;

use crate::ctx::Ctx;
use crate::util::bytes_to_human;
use crate::REDIS_VERSION;

/// Sections in output order; `true` when part of the default set.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// The INFO text for the requested section names (empty = default).
pub fn render(ctx: &mut Ctx<'_>, requested: &[&[u8]]) -> String {
    let mut want = [false; SECTIONS.len()];
    if requested.is_empty() {
        for (i, (_, d)) in SECTIONS.iter().enumerate() {
            want[i] = *d;
        }
    }
    for r in requested {
        let r = r.to_ascii_lowercase();
        match r.as_slice() {
            b"default" => SECTIONS.iter().enumerate().for_each(|(i, (_, d))| want[i] |= *d),
            b"all" | b"everything" => want = [true; SECTIONS.len()],
            _ => {
                if let Some(i) = SECTIONS.iter().position(|(n, _)| n.as_bytes() == r.as_slice()) {
                    want[i] = true;
                }
            }
        }
    }
    let mut s = String::new();
    for (i, (name, _)) in SECTIONS.iter().enumerate() {
        if !want[i] {
            continue;
        }
        if !s.is_empty() {
            s.push_str("\r\n");
        }
        match *name {
            "server" => server(ctx, &mut s),
            "clients" => clients(ctx, &mut s),
            "memory" => memory(ctx, &mut s),
            "persistence" => persistence(ctx, &mut s),
            "stats" => stats(ctx, &mut s),
            "replication" => replication(ctx, &mut s),
            "cpu" => cpu(ctx, &mut s),
            "modules" => s.push_str("# Modules\r\n"),
            "commandstats" => commandstats(ctx, &mut s),
            "errorstats" => errorstats(ctx, &mut s),
            "latencystats" => latencystats(ctx, &mut s),
            "cluster" => s.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "keyspace" => keyspace(ctx, &mut s),
            _ => unreachable!(),
        }
    }
    s
}

macro_rules! field {
    ($s:expr, $name:expr, $($arg:tt)*) => {{
        let _ = write!($s, "{}:", $name);
        let _ = write!($s, $($arg)*);
        $s.push_str("\r\n");
    }};
}

fn server(ctx: &Ctx<'_>, s: &mut String) {
    let st = &ctx.st;
    let now = ctx.now_ms;
    let uptime = ((now - st.server.start_ms) / 1000).max(0);
    s.push_str("# Server\r\n");
    field!(s, "redis_version", "{REDIS_VERSION}");
    field!(s, "ferrokv_version", "{}", env!("CARGO_PKG_VERSION"));
    field!(s, "redis_mode", "standalone");
    field!(s, "os", "{}", st.server.os);
    field!(s, "arch_bits", "{}", usize::BITS);
    field!(s, "multiplexing_api", "epoll");
    field!(s, "process_id", "{}", st.server.pid);
    field!(s, "process_supervised", "{}", if st.server.supervised.is_empty() { "no" } else { st.server.supervised });
    field!(s, "run_id", "{}", st.server.run_id);
    field!(s, "tcp_port", "{}", st.server.tcp_port);
    field!(s, "server_time_usec", "{}", now * 1000);
    field!(s, "uptime_in_seconds", "{uptime}");
    field!(s, "uptime_in_days", "{}", uptime / 86400);
    field!(s, "hz", "{}", st.cfg.hz);
    field!(s, "configured_hz", "{}", st.cfg.hz);
    field!(s, "lru_clock", "{}", crate::keyspace::access::lru_clock(now));
    field!(s, "executable", "{}", st.server.executable);
    field!(s, "config_file", "{}", st.server.config_file);
    field!(s, "worker_threads", "{}", st.server.threads);
}

fn clients(ctx: &Ctx<'_>, s: &mut String) {
    let st = &ctx.st;
    s.push_str("# Clients\r\n");
    field!(
        s,
        "connected_clients",
        "{}",
        st.clients.values().filter(|c| c.kind != crate::client::ClientKind::Replica).count()
    );
    field!(s, "cluster_connections", "0");
    field!(s, "maxclients", "{}", st.cfg.maxclients);
    field!(s, "client_recent_max_input_buffer", "{}", st.recent_max_buffers.iter().map(|b| b.0).max().unwrap_or(0));
    field!(s, "client_recent_max_output_buffer", "{}", st.recent_max_buffers.iter().map(|b| b.1).max().unwrap_or(0));
    // Clients postponed by CLIENT PAUSE count as blocked, as in Redis.
    field!(s, "blocked_clients", "{}", st.blocking.len() + st.postponed.len());
    field!(s, "tracking_clients", "{}", st.tracking.clients());
    field!(s, "clients_in_timeout_table", "0");
}

fn memory(ctx: &mut Ctx<'_>, s: &mut String) {
    let st = &mut *ctx.st;
    let alloc = (st.platform.alloc)();
    let rss = (st.platform.rss)();
    st.used_memory_peak = st.used_memory_peak.max(alloc.allocated);
    let used = alloc.allocated;
    let peak = st.used_memory_peak;
    let total = (st.platform.total_memory)();
    s.push_str("# Memory\r\n");
    field!(s, "used_memory", "{used}");
    field!(s, "used_memory_human", "{}", bytes_to_human(used));
    field!(s, "used_memory_rss", "{rss}");
    field!(s, "used_memory_rss_human", "{}", bytes_to_human(rss));
    field!(s, "used_memory_peak", "{peak}");
    field!(s, "used_memory_peak_human", "{}", bytes_to_human(peak));
    field!(s, "used_memory_peak_perc", "{:.2}%", if peak > 0 { used as f64 * 100.0 / peak as f64 } else { 0.0 });
    field!(s, "used_memory_startup", "{}", st.used_memory_startup);
    field!(s, "allocator_allocated", "{}", alloc.allocated);
    field!(s, "allocator_active", "{}", alloc.active);
    field!(s, "allocator_resident", "{}", alloc.resident);
    field!(s, "total_system_memory", "{total}");
    field!(s, "total_system_memory_human", "{}", bytes_to_human(total));
    let m = crate::script::memory(st);
    let vm_total = (m.vm_eval + m.vm_functions) as u64;
    field!(s, "used_memory_lua", "{}", m.vm_eval);
    field!(s, "used_memory_vm_eval", "{}", m.vm_eval);
    field!(s, "used_memory_lua_human", "{}", bytes_to_human(m.vm_eval as u64));
    field!(s, "used_memory_scripts_eval", "{}", m.scripts_eval);
    field!(s, "number_of_cached_scripts", "{}", m.cached_scripts);
    field!(s, "number_of_functions", "{}", m.functions_count);
    field!(s, "number_of_libraries", "{}", m.libraries);
    field!(s, "used_memory_vm_functions", "{}", m.vm_functions);
    field!(s, "used_memory_vm_total", "{vm_total}");
    field!(s, "used_memory_vm_total_human", "{}", bytes_to_human(vm_total));
    field!(s, "used_memory_functions", "{}", m.functions);
    field!(s, "used_memory_scripts", "{}", m.scripts_eval + m.functions);
    field!(s, "used_memory_scripts_human", "{}", bytes_to_human((m.scripts_eval + m.functions) as u64));
    field!(s, "maxmemory", "{}", st.cfg.maxmemory);
    field!(s, "maxmemory_human", "{}", bytes_to_human(st.cfg.maxmemory as u64));
    field!(
        s,
        "maxmemory_policy",
        "{}",
        st.cfg.format(crate::config::find("maxmemory-policy").expect("known parameter"))
    );
    if alloc.allocated > 0 {
        field!(s, "allocator_frag_ratio", "{:.2}", alloc.active as f64 / alloc.allocated as f64);
        field!(s, "mem_fragmentation_ratio", "{:.2}", rss as f64 / used as f64);
    }
    field!(s, "mem_fragmentation_bytes", "{}", rss as i64 - used as i64);
    field!(s, "mem_allocator", "{}", st.platform.allocator_name);
    field!(s, "lazyfree_pending_objects", "{}", st.lazyfree_pending.load(std::sync::atomic::Ordering::Relaxed));
    field!(s, "lazyfreed_objects", "{}", st.lazyfreed.load(std::sync::atomic::Ordering::Relaxed));
}

fn persistence(ctx: &Ctx<'_>, s: &mut String) {
    let st = &ctx.st;
    s.push_str("# Persistence\r\n");
    field!(s, "loading", "0");
    field!(s, "async_loading", "0");
    field!(s, "rdb_changes_since_last_save", "{}", st.dirty);
    field!(s, "rdb_bgsave_in_progress", "0");
    field!(s, "rdb_last_save_time", "{}", st.lastsave);
    field!(s, "rdb_last_bgsave_status", "ok");
    field!(s, "rdb_last_bgsave_time_sec", "-1");
    field!(s, "rdb_current_bgsave_time_sec", "-1");
    field!(s, "rdb_saves", "{}", st.rdb_saves);
    field!(s, "aof_enabled", "0");
    field!(s, "aof_rewrite_in_progress", "0");
    field!(s, "aof_rewrite_scheduled", "0");
    field!(s, "aof_last_rewrite_time_sec", "-1");
    field!(s, "aof_current_rewrite_time_sec", "-1");
    field!(s, "aof_last_bgrewrite_status", "ok");
    field!(s, "aof_rewrites", "0");
    field!(s, "aof_last_write_status", "ok");
}

fn stats(ctx: &Ctx<'_>, s: &mut String) {
    let st = &ctx.st;
    let t = &st.stats;
    s.push_str("# Stats\r\n");
    field!(s, "total_connections_received", "{}", t.connections_received);
    field!(s, "total_commands_processed", "{}", t.commands_processed);
    field!(s, "instantaneous_ops_per_sec", "{}", st.ops_metric.rate() as i64);
    field!(s, "total_net_input_bytes", "{}", t.net_input_bytes);
    field!(s, "total_net_output_bytes", "{}", t.net_output_bytes);
    field!(s, "instantaneous_input_kbps", "{:.2}", st.input_metric.rate() / 1024.0);
    field!(s, "instantaneous_output_kbps", "{:.2}", st.output_metric.rate() / 1024.0);
    field!(s, "rejected_connections", "{}", t.rejected_connections);
    field!(s, "expired_keys", "{}", st.expired_keys());
    field!(s, "expired_stale_perc", "{:.2}", t.expired_stale_perc * 100.0);
    field!(s, "expired_time_cap_reached_count", "{}", t.expire_time_cap_reached);
    field!(s, "expire_cycle_cpu_milliseconds", "{}", t.expire_cycle_usec / 1000);
    field!(s, "evicted_keys", "{}", st.stats.evicted_keys);
    field!(s, "keyspace_hits", "{}", t.keyspace_hits);
    field!(s, "keyspace_misses", "{}", t.keyspace_misses);
    field!(s, "pubsub_channels", "{}", st.pubsub.channel_count());
    field!(s, "pubsub_patterns", "{}", st.pubsub.numpat());
    field!(s, "pubsubshard_channels", "{}", st.pubsub.shard_channel_count());
    field!(s, "total_forks", "0");
    field!(s, "tracking_total_keys", "{}", st.tracking.keys());
    field!(s, "tracking_total_items", "{}", st.tracking.items());
    field!(s, "tracking_total_prefixes", "{}", st.tracking.prefixes());
    field!(s, "unexpected_error_replies", "0");
    field!(s, "total_error_replies", "{}", t.error_replies);
    field!(s, "total_reads_processed", "{}", t.reads_processed);
    field!(s, "total_writes_processed", "{}", t.writes_processed);
}

fn replication(ctx: &Ctx<'_>, s: &mut String) {
    let st = &ctx.st;
    s.push_str("# Replication\r\n");
    field!(s, "role", "master");
    field!(s, "connected_slaves", "0");
    field!(s, "master_failover_state", "no-failover");
    field!(s, "master_replid", "{}", st.server.replid);
    field!(s, "master_replid2", "0000000000000000000000000000000000000000");
    field!(s, "master_repl_offset", "0");
    field!(s, "second_repl_offset", "-1");
    field!(s, "repl_backlog_active", "0");
    field!(s, "repl_backlog_first_byte_offset", "0");
    field!(s, "repl_backlog_histlen", "0");
}

fn cpu(ctx: &Ctx<'_>, s: &mut String) {
    let r = (ctx.st.platform.rusage)();
    s.push_str("# CPU\r\n");
    field!(s, "used_cpu_sys", "{:.6}", r.sys);
    field!(s, "used_cpu_user", "{:.6}", r.user);
    field!(s, "used_cpu_sys_children", "{:.6}", r.sys_children);
    field!(s, "used_cpu_user_children", "{:.6}", r.user_children);
}

fn commandstats(ctx: &Ctx<'_>, s: &mut String) {
    s.push_str("# Commandstats\r\n");
    for c in crate::table().all() {
        let st = ctx.st.cmdstats[c.id];
        if st.calls == 0 && st.failed == 0 && st.rejected == 0 {
            continue;
        }
        let per = if st.calls > 0 { st.usec as f64 / st.calls as f64 } else { 0.0 };
        let _ = write!(
            s,
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            c.fullname, st.calls, st.usec, per, st.rejected, st.failed
        );
    }
}

fn errorstats(ctx: &Ctx<'_>, s: &mut String) {
    s.push_str("# Errorstats\r\n");
    for (code, n) in &ctx.st.stats.errors {
        let safe: String = code.chars().map(|c| if matches!(c, ':' | '#' | '\r' | '\n') { '_' } else { c }).collect();
        let _ = write!(s, "errorstat_{safe}:count={n}\r\n");
    }
}

/// Each command's latency percentiles (`fillPercentileDistributionLatencies`).
fn latencystats(ctx: &Ctx<'_>, s: &mut String) {
    s.push_str("# Latencystats\r\n");
    if !ctx.st.cfg.latency_tracking {
        return;
    }
    for c in crate::table().all() {
        let Some(h) = &ctx.st.latency[c.id] else { continue };
        let _ = write!(s, "latency_percentiles_usec_{}:", c.fullname);
        for (j, &p) in ctx.st.cfg.latency_percentiles.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            let usec = h.value_at_percentile(p) as f64 / 1000.0;
            let _ = write!(s, "p{}={usec:.3}", crate::config::format_percentile(p));
        }
        s.push_str("\r\n");
    }
}

fn keyspace(ctx: &Ctx<'_>, s: &mut String) {
    s.push_str("# Keyspace\r\n");
    for (i, db) in ctx.st.dbs.iter().enumerate() {
        if !db.is_empty() || db.volatile_len() > 0 {
            let _ = write!(s, "db{i}:keys={},expires={},avg_ttl={}\r\n", db.len(), db.volatile_len(), db.avg_ttl);
        }
    }
}
