//! Pub/sub subscriptions and message delivery (Redis's `pubsub.c`).
//!
//! Three namespaces: channels, patterns (glob-matched against a published
//! channel) and shard channels (SSUBSCRIBE/SPUBLISH, which a cluster routes
//! by the channel's slot and which patterns never see). Each subscriber
//! receives messages in publish order.
//!
//! Delivery to another connection goes through its registry entry's outbox
//! (encoded in that connection's protocol) and a wake-up; a message for the
//! connection running the command goes straight into its reply buffer, so it
//! precedes that command's own reply as in Redis.

use std::collections::HashMap;

use ferrokv_resp::{Out, Protocol};

use crate::glob::glob_match;
use crate::state::State;

/// Which namespace a subscription is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

/// Subscribers by name, each list in subscription order. Names are kept
/// in hash order, as Redis's dict keeps them (PUBSUB CHANNELS and pattern
/// matching order are unspecified there too).
#[derive(Debug, Default)]
struct Registry {
    subscribers: HashMap<Vec<u8>, Vec<u64>>,
}

impl Registry {
    fn add(&mut self, name: &[u8], id: u64) {
        match self.subscribers.get_mut(name) {
            Some(ids) => ids.push(id),
            None => {
                self.subscribers.insert(name.to_vec(), vec![id]);
            }
        }
    }

    fn remove(&mut self, name: &[u8], id: u64) {
        if let Some(ids) = self.subscribers.get_mut(name) {
            ids.retain(|&c| c != id);
            if ids.is_empty() {
                self.subscribers.remove(name);
            }
        }
    }

    fn len(&self) -> usize {
        self.subscribers.len()
    }
}

/// One client's subscriptions, in subscription order.
#[derive(Debug, Default, Clone)]
pub struct ClientSubs {
    /// Channels.
    pub channels: Vec<Vec<u8>>,
    /// Patterns.
    pub patterns: Vec<Vec<u8>>,
    /// Shard channels.
    pub shard: Vec<Vec<u8>>,
}

impl ClientSubs {
    fn list(&mut self, kind: Kind) -> &mut Vec<Vec<u8>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count SUBSCRIBE/PSUBSCRIBE replies carry: channels plus patterns.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Every subscription of every kind.
    pub fn total(&self) -> usize {
        self.count() + self.shard.len()
    }
}

/// Every subscription on the server.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: Registry,
    patterns: Registry,
    shard: Registry,
    clients: HashMap<u64, ClientSubs>,
}

impl PubSub {
    fn registry(&mut self, kind: Kind) -> &mut Registry {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// Client `id`'s subscriptions.
    pub fn of(&self, id: u64) -> Option<&ClientSubs> {
        self.clients.get(&id)
    }

    /// Subscribes client `id` to `name`; false when it already was.
    pub fn subscribe(&mut self, id: u64, kind: Kind, name: &[u8]) -> bool {
        let subs = self.clients.entry(id).or_default().list(kind);
        if subs.iter().any(|n| n == name) {
            return false;
        }
        subs.push(name.to_vec());
        self.registry(kind).add(name, id);
        true
    }

    /// Unsubscribes client `id` from `name`; false when it was not
    /// subscribed.
    pub fn unsubscribe(&mut self, id: u64, kind: Kind, name: &[u8]) -> bool {
        let Some(cs) = self.clients.get_mut(&id) else { return false };
        let subs = cs.list(kind);
        let Some(i) = subs.iter().position(|n| n == name) else { return false };
        subs.remove(i);
        if cs.total() == 0 {
            self.clients.remove(&id);
        }
        self.registry(kind).remove(name, id);
        true
    }

    /// Client `id`'s subscriptions of `kind`, in subscription order.
    pub fn names(&self, id: u64, kind: Kind) -> Vec<Vec<u8>> {
        self.clients
            .get(&id)
            .map(|c| match kind {
                Kind::Channel => c.channels.clone(),
                Kind::Pattern => c.patterns.clone(),
                Kind::Shard => c.shard.clone(),
            })
            .unwrap_or_default()
    }

    /// Drops every subscription of client `id` (disconnect, RESET).
    pub fn remove_client(&mut self, id: u64) {
        let Some(cs) = self.clients.remove(&id) else { return };
        for n in cs.channels {
            self.channels.remove(&n, id);
        }
        for n in cs.patterns {
            self.patterns.remove(&n, id);
        }
        for n in cs.shard {
            self.shard.remove(&n, id);
        }
    }

    /// Channels (or shard channels) with subscribers matching `pattern`.
    pub fn channel_names(&self, shard: bool, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let r = if shard { &self.shard } else { &self.channels };
        r.subscribers.keys().filter(|n| pattern.is_none_or(|p| glob_match(p, n))).cloned().collect()
    }

    /// Subscribers of `name` (not counting patterns).
    pub fn numsub(&self, shard: bool, name: &[u8]) -> usize {
        let r = if shard { &self.shard } else { &self.channels };
        r.subscribers.get(name).map_or(0, Vec::len)
    }

    /// Distinct patterns with subscribers (PUBSUB NUMPAT).
    pub fn numpat(&self) -> usize {
        self.patterns.len()
    }

    /// Channels plus patterns with subscribers (INFO pubsub_channels and
    /// pubsub_patterns are separate; this is for quick emptiness checks).
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Number of channels with subscribers.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Number of shard channels with subscribers.
    pub fn shard_channel_count(&self) -> usize {
        self.shard.len()
    }
}

/// Encodes a `message`/`smessage` (3 elements) or `pmessage` (4) push.
fn encode(proto: Protocol, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Out::new(proto);
    out.push(parts.len());
    for p in parts {
        out.bulk(p);
    }
    out.buf
}

/// Publishes `message` on `channel` and returns the number of receivers.
/// `current` is the connection running the command, with its reply buffer:
/// its own messages go there directly.
pub fn publish(st: &mut State, shard: bool, channel: &[u8], message: &[u8], current: Option<(u64, &mut Out)>) -> usize {
    if st.pubsub.is_empty() {
        return 0;
    }
    let mut receivers = 0;
    let (cur_id, mut cur_out) = match current {
        Some((id, out)) => (Some(id), Some(out)),
        None => (None, None),
    };
    let kind: &[u8] = if shard { b"smessage" } else { b"message" };
    let mut targets: Vec<(u64, Option<&[u8]>)> = Vec::new();
    let reg = if shard { &st.pubsub.shard } else { &st.pubsub.channels };
    if let Some(ids) = reg.subscribers.get(channel) {
        targets.extend(ids.iter().map(|&id| (id, None)));
    }
    let mut patterns: Vec<(u64, Vec<u8>)> = Vec::new();
    if !shard {
        for (p, ids) in &st.pubsub.patterns.subscribers {
            if glob_match(p, channel) {
                patterns.extend(ids.iter().map(|&id| (id, p.clone())));
            }
        }
    }
    targets.extend(patterns.iter().map(|(id, p)| (*id, Some(p.as_slice()))));
    // Encoded once per protocol, not once per receiver.
    let mut cache: [Option<Vec<u8>>; 2] = [None, None];
    for (id, pattern) in targets {
        receivers += 1;
        let parts: Vec<&[u8]> = match pattern {
            Some(p) => vec![b"pmessage", p, channel, message],
            None => vec![kind, channel, message],
        };
        if cur_id == Some(id) {
            if let Some(out) = cur_out.as_deref_mut() {
                out.push(parts.len());
                for p in &parts {
                    out.bulk(p);
                }
                continue;
            }
        }
        let Some(info) = st.clients.get_mut(&id) else { continue };
        let proto = info.protocol();
        if pattern.is_some() {
            info.deliver(&encode(proto, &parts));
        } else {
            let slot = &mut cache[(proto == Protocol::Resp3) as usize];
            let bytes = slot.get_or_insert_with(|| encode(proto, &parts));
            info.deliver(bytes);
        }
    }
    receivers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_counted_and_forgotten() {
        let mut ps = PubSub::default();
        assert!(ps.subscribe(1, Kind::Channel, b"a"));
        assert!(!ps.subscribe(1, Kind::Channel, b"a"));
        assert!(ps.subscribe(1, Kind::Pattern, b"a*"));
        assert!(ps.subscribe(2, Kind::Channel, b"a"));
        assert!(ps.subscribe(2, Kind::Shard, b"s"));
        assert_eq!(ps.of(1).unwrap().count(), 2);
        assert_eq!(ps.numsub(false, b"a"), 2);
        assert_eq!(ps.numpat(), 1);
        assert_eq!(ps.channel_names(false, Some(b"a*")), vec![b"a".to_vec()]);
        assert_eq!(ps.channel_names(true, None), vec![b"s".to_vec()]);
        ps.remove_client(1);
        assert_eq!(ps.numsub(false, b"a"), 1);
        assert_eq!(ps.numpat(), 0);
        assert!(ps.unsubscribe(2, Kind::Channel, b"a"));
        assert!(!ps.unsubscribe(2, Kind::Channel, b"a"));
        assert!(ps.unsubscribe(2, Kind::Shard, b"s"));
        assert!(ps.is_empty());
        assert_eq!(ps.channel_count(), 0);
    }
}
