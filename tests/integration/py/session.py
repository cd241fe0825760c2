"""A redis-py session against the server on 127.0.0.1:<port> (argv[1]).

Exercises what applications do with strings, keys and expiry, in RESP2 and
RESP3, and checks the error texts redis-py surfaces."""
import sys

import redis

port = int(sys.argv[1])


def check(cond, what):
    if not cond:
        raise AssertionError(what)


for protocol in (2, 3):
    r = redis.Redis(host="127.0.0.1", port=port, protocol=protocol, decode_responses=True)
    r.flushall()
    check(r.ping() is True, "ping")
    check(r.set("user:1", "ada") is True, "set")
    check(r.get("user:1") == "ada", "get")
    check(r.set("user:1", "bob", nx=True) is None, "set nx on existing key")
    check(r.set("user:1", "bob", xx=True, get=True) == "ada", "set xx get")
    check(r.set("session", "tok", ex=100) is True, "set ex")
    check(95 <= r.ttl("session") <= 100, "ttl")
    check(r.expire("session", 200, gt=True) is True, "expire gt")
    check(r.persist("session") is True, "persist")
    check(r.ttl("session") == -1, "persisted")
    check(r.incr("hits") == 1 and r.incrby("hits", 9) == 10, "incr")
    check(r.incrbyfloat("price", "10.5") == 10.5, "incrbyfloat")
    check(r.mset({"a": "1", "b": "2"}) is True, "mset")
    check(r.mget("a", "b", "zz") == ["1", "2", None], "mget")
    check(r.exists("a", "b", "zz") == 2, "exists")
    check(r.delete("a", "zz") == 1, "delete")
    check(r.getdel("b") == "2", "getdel")
    check(r.rename("user:1", "user:2") is True, "rename")
    check(r.type("user:2") == "string", "type")
    check(r.setbit("bits", 7, 1) == 0 and r.bitcount("bits") == 1, "bits")
    check(r.bitfield("bf").incrby("u8", 0, 200).incrby("u8", 0, 100).execute() == [200, 44], "bitfield")
    check(r.lcs("user:2", "user:2") == "bob", "lcs")
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.set(f"p:{i}", i)
    check(all(pipe.execute()), "pipeline")
    check(len(list(r.scan_iter(match="p:*", count=7))) == 100, "scan_iter")
    # hits, price, user:2, session, bits, bf and the 100 p:* keys.
    check(r.dbsize() == 106, "dbsize %d" % r.dbsize())
    r.client_setname("py")
    check(r.client_getname() == "py", "client name")
    check(r.object("encoding", "hits") == "int", "object encoding")
    check(int(r.info("server")["redis_version"].split(".")[0]) >= 7, "info")
    check(r.config_get("maxmemory") == {"maxmemory": "0"}, "config get")
    try:
        r.incr("user:2")
        raise AssertionError("incr on a string should fail")
    except redis.ResponseError as e:
        check(str(e) == "value is not an integer or out of range", "error text %s" % e)
    try:
        r.execute_command("NOSUCH", "x")
        raise AssertionError("unknown command should fail")
    except redis.ResponseError as e:
        check(str(e).startswith("unknown command 'NOSUCH'"), "unknown command text %s" % e)
    r.close()

print("redis-py session ok")
