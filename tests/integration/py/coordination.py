"""Coordination patterns through redis-py against 127.0.0.1:<port> (argv[1]):
a lock released with check-and-delete under WATCH, a fair counting
semaphore on sorted sets, optimistic WATCH retries from several threads, and
pub/sub through redis-py's PubSub object, an event-driven listener on
database 6 that hears `expired` and `del` keyevents of that database only,
and a subscriber that stops reading, cut off by its output buffer limit.
Run in RESP2 and RESP3."""
import sys
import threading
import time
import uuid

import redis

port = int(sys.argv[1])


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def conn(protocol):
    return redis.Redis(host="127.0.0.1", port=port, protocol=protocol, decode_responses=True, socket_timeout=30)


def acquire_lock(r, name, ttl_ms, timeout_s=10):
    token = str(uuid.uuid4())
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if r.set(name, token, nx=True, px=ttl_ms):
            return token
        time.sleep(0.001)
    return None


def release_lock(r, name, token):
    """Deletes the lock only if it is still ours (check-and-delete)."""
    with r.pipeline() as p:
        while True:
            try:
                p.watch(name)
                if p.get(name) != token:
                    p.unwatch()
                    return False
                p.multi()
                p.delete(name)
                p.execute()
                return True
            except redis.WatchError:
                continue


def lock_protects_a_critical_section(protocol):
    r = conn(protocol)
    r.delete("lock:res", "res:value", "res:inside")
    errors = []

    def worker():
        c = conn(protocol)
        for _ in range(30):
            token = acquire_lock(c, "lock:res", 5000)
            if token is None:
                errors.append("lock not acquired")
                return
            if c.incr("res:inside") != 1:
                errors.append("two holders at once")
            v = int(c.get("res:value") or 0)
            c.set("res:value", v + 1)
            c.decr("res:inside")
            if not release_lock(c, "lock:res", token):
                errors.append("lost the lock")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, f"lock: {errors[:3]}")
    check(r.get("res:value") == "120", "lock: every increment kept")
    # A lock another owner holds is not released by us.
    token = acquire_lock(r, "lock:res", 5000)
    check(not release_lock(r, "lock:res", "not-the-owner"), "foreign release refused")
    check(release_lock(r, "lock:res", token), "own release")


def acquire_fair_semaphore(r, sem, limit, timeout_s=10):
    """A counting semaphore on two sorted sets: `sem` holds each holder
    with its acquisition time (stale holders expire), `sem:owner` the same
    holders ordered by a counter, which is what makes it fair against
    clock skew. The check and the add run under WATCH, so no interleaving
    can admit more than `limit` holders (the unguarded version in 'Redis in
    Action' 6.3.2 can, as its text notes)."""
    ident = str(uuid.uuid4())
    counter = r.incr(sem + ":counter")
    with r.pipeline() as p:
        while True:
            try:
                p.watch(sem)
                now = time.time()
                stale = p.zrangebyscore(sem, "-inf", now - timeout_s)
                if p.zcard(sem) - len(stale) >= limit:
                    p.unwatch()
                    return None
                p.multi()
                if stale:
                    p.zrem(sem, *stale)
                    p.zrem(sem + ":owner", *stale)
                p.zadd(sem, {ident: now})
                p.zadd(sem + ":owner", {ident: counter})
                p.execute()
                return ident
            except redis.WatchError:
                continue


def release_fair_semaphore(r, sem, ident):
    p = r.pipeline(transaction=True)
    p.zrem(sem, ident)
    p.zrem(sem + ":owner", ident)
    return p.execute()[0]


def fair_semaphore_admits_at_most_its_limit(protocol):
    r = conn(protocol)
    r.delete("sem", "sem:owner", "sem:counter", "sem:holders", "sem:max")
    limit = 3
    errors = []

    def worker():
        c = conn(protocol)
        got = 0
        while got < 10:
            ident = acquire_fair_semaphore(c, "sem", limit)
            if ident is None:
                time.sleep(0.001)
                continue
            got += 1
            holders = c.incr("sem:holders")
            if holders > limit:
                errors.append(f"{holders} holders")
            c.decr("sem:holders")
            check(release_fair_semaphore(c, "sem", ident) == 1, "semaphore release")

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, f"semaphore: {errors[:3]}")
    check(r.zcard("sem") == 0 and r.zcard("sem:owner") == 0, "semaphore drained")


def watch_retries_lose_no_update(protocol):
    r = conn(protocol)
    r.delete("balance")
    retries = [0]

    def worker():
        c = conn(protocol)
        for _ in range(100):
            with c.pipeline() as p:
                while True:
                    try:
                        p.watch("balance")
                        v = int(p.get("balance") or 0)
                        p.multi()
                        p.set("balance", v + 1)
                        p.execute()
                        break
                    except redis.WatchError:
                        retries[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(r.get("balance") == "500", f"balance {r.get('balance')}")


def pubsub_object(protocol):
    r = conn(protocol)
    ps = r.pubsub()
    ps.subscribe("orders")
    ps.psubscribe("audit.*")
    check(ps.get_message(timeout=5)["type"] == "subscribe", "subscribe confirmation")
    check(ps.get_message(timeout=5)["type"] == "psubscribe", "psubscribe confirmation")
    check(r.publish("orders", "o1") == 1, "publish count")
    check(r.publish("audit.login", "u1") == 1, "pattern publish count")
    m = ps.get_message(timeout=5)
    check(m["type"] == "message" and m["channel"] == "orders" and m["data"] == "o1", f"message {m}")
    m = ps.get_message(timeout=5)
    check(m["type"] == "pmessage" and m["pattern"] == "audit.*" and m["data"] == "u1", f"pmessage {m}")
    check(r.pubsub_numsub("orders") == [("orders", 1)], "numsub")
    check(r.pubsub_numpat() == 1, "numpat")
    ps.close()


def keyevent_listener_on_db6(protocol):
    admin = conn(protocol)
    admin.config_set("notify-keyspace-events", "Egx")
    r6 = redis.Redis(host="127.0.0.1", port=port, db=6, protocol=protocol, decode_responses=True, socket_timeout=30)
    r0 = conn(protocol)
    ps = r6.pubsub()
    ps.subscribe("__keyevent@6__:expired", "__keyevent@6__:del")
    for _ in range(2):
        check(ps.get_message(timeout=5)["type"] == "subscribe", "subscribe confirmation")
    # Writes in database 0 must not reach a database-6 listener.
    r0.set("session:0", "x", px=20)
    r0.set("cart:0", "x")
    r0.delete("cart:0")
    r6.set("session:6", "x", px=20)
    r6.set("cart:6", "x")
    r6.delete("cart:6")
    heard = []
    deadline = time.time() + 10
    while len(heard) < 2 and time.time() < deadline:
        m = ps.get_message(timeout=1)
        if m and m["type"] == "message":
            heard.append((m["channel"], m["data"]))
    check(
        sorted(heard) == [("__keyevent@6__:del", "cart:6"), ("__keyevent@6__:expired", "session:6")],
        f"heard {heard}",
    )
    # Nothing else arrives: database 0's expiry is not announced here.
    deadline = time.time() + 10
    while r0.exists("session:0") and time.time() < deadline:
        time.sleep(0.01)
    check(not r0.exists("session:0"), "session:0 expired")
    extra = ps.get_message(timeout=0.5)
    check(extra is None, f"unexpected {extra}")
    ps.close()
    admin.config_set("notify-keyspace-events", "")


def info_clients(r):
    return r.info("clients")


def slow_subscriber_is_cut_off(protocol):
    """A redis-py subscriber that stops reading while 1 GiB is published:
    its output buffer shows in CLIENT LIST and INFO, then the pubsub class's
    32 MB hard limit disconnects it and the server's memory comes back."""
    r = conn(protocol)
    r.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")
    sub_conn = conn(protocol)
    ps = sub_conn.pubsub()
    ps.subscribe("firehose")
    check(ps.get_message(timeout=5)["type"] == "subscribe", "subscribe confirmation")
    # From here on the subscriber reads nothing.
    msg = b"x" * 65536
    batch = 64
    pipe = r.pipeline(transaction=False)
    delivered = 0
    seen_omem = 0
    for i in range((1 << 30) // (len(msg) * batch)):
        for _ in range(batch):
            pipe.publish("firehose", msg)
        delivered += sum(pipe.execute())
        if delivered and not seen_omem:
            subs = [c for c in r.client_list() if "P" in c["flags"] or c.get("sub") == "1"]
            seen_omem = max([int(c["omem"]) for c in subs] + [0])
            # INFO's figure is sampled by the server's cron, as Redis's.
            deadline = time.time() + 5
            while seen_omem and time.time() < deadline:
                if info_clients(r)["client_recent_max_output_buffer"] > 0:
                    break
                time.sleep(0.01)
            recent = info_clients(r)["client_recent_max_output_buffer"]
            check(not seen_omem or recent > 0, f"client_recent_max_output_buffer {recent}, omem {seen_omem}")
    check(seen_omem > 0, "CLIENT LIST never showed the subscriber's output buffer")
    check(delivered < 2048, f"{delivered} messages were buffered for a subscriber that never reads")
    check(r.pubsub_numsub("firehose") == [("firehose", 0)], "the subscriber is gone")
    deadline = time.time() + 10
    while r.info("memory")["used_memory"] > 64 << 20 and time.time() < deadline:
        time.sleep(0.05)
    check(r.info("memory")["used_memory"] < 64 << 20, "memory came back")
    ps.close()


RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def scripted_lock_and_counter(protocol):
    """A lock released by a script (redis-py's register_script: EVALSHA,
    falling back to EVAL on NOSCRIPT) and an atomic capped counter."""
    r = conn(protocol)
    r.script_flush()
    release = r.register_script(RELEASE)
    token = acquire_lock(r, "script-lock", 10000)
    check(token is not None, "lock acquired")
    check(release(keys=["script-lock"], args=["not-mine"]) == 0, "foreign token refused")
    check(release(keys=["script-lock"], args=[token]) == 1, "own token released")
    check(r.exists("script-lock") == 0, "lock gone")
    capped = r.register_script(
        "local v = redis.call('incr', KEYS[1]) "
        "if v > tonumber(ARGV[1]) then redis.call('decr', KEYS[1]) return redis.error_reply('LIMIT reached') end "
        "return v"
    )
    r.delete("capped")

    def worker():
        c = conn(protocol)
        for _ in range(50):
            try:
                capped(keys=["capped"], args=[120], client=c)
            except redis.ResponseError as e:
                check(str(e) == "LIMIT reached", f"error {e}")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(r.get("capped") == "120", f"capped {r.get('capped')}")


RATE_LIBRARY = """#!lua name=ratelimit
-- A fixed-window rate limiter: at most ARGV[1] hits per window of ARGV[2] ms.
local function hit(keys, args)
  local n = redis.call('incr', keys[1])
  if n == 1 then redis.call('pexpire', keys[1], args[2]) end
  if n > tonumber(args[1]) then return redis.error_reply('RATELIMITED try later') end
  return n
end
redis.register_function('rl_hit', hit)
redis.register_function{function_name='rl_peek', callback=function(keys)
  return tonumber(redis.call('get', keys[1]) or '0')
end, flags={'no-writes'}, description='hits in the current window'}
"""


def function_library_rate_limiter(protocol):
    """A library loaded with FUNCTION LOAD and called by name from several
    threads: no more hits than the limit get through, the read-only
    function runs with FCALL_RO, and the library survives DUMP/RESTORE."""
    r = conn(protocol)
    r.function_flush()
    check(r.function_load(RATE_LIBRARY) == "ratelimit", "library loaded")
    try:
        r.function_load(RATE_LIBRARY)
        check(False, "second load without REPLACE refused")
    except redis.ResponseError as e:
        check(str(e) == "Library 'ratelimit' already exists", f"error {e}")
    r.delete("rl:user1")
    passed = []

    def worker():
        c = conn(protocol)
        for _ in range(40):
            try:
                passed.append(c.fcall("rl_hit", 1, "rl:user1", 100, 60000))
            except redis.ResponseError as e:
                check(str(e) == "RATELIMITED try later", f"error {e}")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(sorted(passed) == list(range(1, 101)), "exactly the first 100 hits passed")
    check(r.fcall_ro("rl_peek", 1, "rl:user1") == 160, "read-only peek")
    listed = r.function_list(library="ratelimit")
    check(len(listed) == 1, f"listed {listed}")
    payload = r.function_dump()
    r.function_flush()
    check(r.function_list() == [], "flushed")
    check(r.function_restore(payload) == True, "restored")
    check(r.fcall("rl_hit", 1, "rl:user2", 5, 1000) == 1, "restored function runs")


for protocol in (2, 3):
    function_library_rate_limiter(protocol)
    scripted_lock_and_counter(protocol)
    keyevent_listener_on_db6(protocol)
    lock_protects_a_critical_section(protocol)
    fair_semaphore_admits_at_most_its_limit(protocol)
    watch_retries_lose_no_update(protocol)
    slow_subscriber_is_cut_off(protocol)
    pubsub_object(protocol)
print("redis-py coordination ok")
