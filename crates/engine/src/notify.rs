//! Keyspace notifications (Redis's `notify.c`): a command that changes a key
//! publishes the event on `__keyspace@<db>__:<key>` and the key on
//! `__keyevent@<db>__:<event>`, for the classes `notify-keyspace-events`
//! enables. With the setting empty (the default) a notification costs one
//! test of a bit mask.

use ferrokv_resp::Out;

use crate::state::State;

/// Notification classes, with Redis's bit values.
pub mod class {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: strings.
    pub const STRING: u32 = 1 << 3;
    /// `l`: lists.
    pub const LIST: u32 = 1 << 4;
    /// `s`: sets.
    pub const SET: u32 = 1 << 5;
    /// `h`: hashes.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted sets.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: a key removed because it expired.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: a key evicted under maxmemory.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: streams.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: a read of a missing key (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// `d`: module types.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: a key added to the keyspace (not part of `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: `g$lshzxetd`.
    pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

use class::*;

/// The flags `classes` names, or `None` for a character that names no
/// class (Redis's `keyspaceEventsStringToFlags`).
pub fn parse_flags(classes: &str) -> Option<u32> {
    classes.chars().try_fold(0, |flags, c| {
        Some(
            flags
                | match c {
                    'A' => ALL,
                    'g' => GENERIC,
                    '$' => STRING,
                    'l' => LIST,
                    's' => SET,
                    'h' => HASH,
                    'z' => ZSET,
                    'x' => EXPIRED,
                    'e' => EVICTED,
                    'K' => KEYSPACE,
                    'E' => KEYEVENT,
                    't' => STREAM,
                    'm' => KEY_MISS,
                    'd' => MODULE,
                    'n' => NEW,
                    _ => return None,
                },
        )
    })
}

/// The canonical spelling of `flags`, as CONFIG GET prints it.
pub fn flags_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// Whether events of class `c` are published at all: the class enabled and
/// at least one of the two channel families.
#[inline]
pub fn enabled(st: &State, c: u32) -> bool {
    let f = st.cfg.notify_flags;
    f & c != 0 && f & (KEYSPACE | KEYEVENT) != 0
}

/// Publishes `event` about `key` in database `db`. `current` is the
/// connection running the command, whose own subscriptions are served in
/// its reply stream (ahead of the reply, as in Redis).
///
/// Keys the command saw expire, or added, in `db` are announced first, so
/// subscribers hear `expired` and `new` before the event that followed them.
pub fn notify(st: &mut State, c: u32, event: &str, key: &[u8], db: usize, mut current: Option<(u64, &mut Out)>) {
    if st.cfg.notify_flags & c == 0 {
        return;
    }
    flush_pending(st, db, current.as_mut().map(|(id, out)| (*id, &mut **out)));
    publish_event(st, event, key, db, current);
}

/// Announces the keys database `db` logged as added or expired.
/// Expiry first: a command looks its keys up (reclaiming expired ones)
/// before it adds any.
pub fn flush_pending(st: &mut State, db: usize, mut current: Option<(u64, &mut Out)>) {
    if !st.dbs[db].expired_log.is_empty() {
        st.after_expiry(db, current.as_mut().map(|(id, out)| (*id, &mut **out)));
    }
    if !st.dbs[db].new_log.is_empty() {
        for key in std::mem::take(&mut st.dbs[db].new_log) {
            notify_now(st, NEW, "new", &key, db, current.as_mut().map(|(id, out)| (*id, &mut **out)));
        }
    }
}

/// Publishes `event` if its class is enabled, without announcing pending
/// keys first (for the pending-key announcements themselves).
pub(crate) fn notify_now(st: &mut State, c: u32, event: &str, key: &[u8], db: usize, current: Option<(u64, &mut Out)>) {
    if st.cfg.notify_flags & c != 0 {
        publish_event(st, event, key, db, current);
    }
}

fn publish_event(st: &mut State, event: &str, key: &[u8], db: usize, mut current: Option<(u64, &mut Out)>) {
    if st.pubsub.is_empty() {
        return;
    }
    let flags = st.cfg.notify_flags;
    if flags & KEYSPACE != 0 {
        let mut chan = format!("__keyspace@{db}__:").into_bytes();
        chan.extend_from_slice(key);
        crate::pubsub::publish(st, false, &chan, event.as_bytes(), current.as_mut().map(|(id, out)| (*id, &mut **out)));
    }
    if flags & KEYEVENT != 0 {
        let chan = format!("__keyevent@{db}__:{event}").into_bytes();
        crate::pubsub::publish(st, false, &chan, key, current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_as_redis_spells_them() {
        assert_eq!(parse_flags(""), Some(0));
        assert_eq!(parse_flags("Q"), None);
        assert_eq!(flags_to_string(parse_flags("KEA").unwrap()), "AKE");
        assert_eq!(flags_to_string(parse_flags("Eg$lshzxetd").unwrap()), "AE");
        assert_eq!(flags_to_string(parse_flags("xKE").unwrap()), "xKE");
        // With A, Redis prints no other class letter, n included.
        assert_eq!(flags_to_string(parse_flags("mnKAE").unwrap()), "AKEm");
        assert_eq!(flags_to_string(parse_flags("El$").unwrap()), "$lE");
    }
}
