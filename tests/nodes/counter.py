#!/usr/bin/env python3
"""G-counter / pn-counter on seq-kv: adds are cas loops on one key; reads first write a
unique dummy key (a state-changing op makes seq-kv serve the newest state).
With argv[1] == "double" every add is applied twice (broken).
With argv[1] == "split" every 4th add a node receives is kept in that node's own memory
and answered with error 13 (indeterminate): the node's reads include it, no other node's
do, so the final reads disagree for ever although each is a sum Maelstrom's counter
checker accepts (the ok adds plus some of the indeterminate ones): fails `convergence`."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maelstrom import Node  # noqa: E402

mode = sys.argv[1] if len(sys.argv) > 1 else ""
double = mode == "double"
split = mode == "split"
local = [0, 0]  # [adds received, sum kept locally]
node = Node()
KEY = "counter"
seq = [0]
seq_lock = threading.Lock()


def kv(body):
    for _ in range(50):
        reply = node.rpc("seq-kv", body, timeout=1.0)
        if reply is not None:
            return reply
    return None


def fresh_read():
    with seq_lock:
        seq[0] += 1
        n = seq[0]
    kv({"type": "write", "key": "sync-" + node.node_id, "value": n})
    reply = kv({"type": "read", "key": KEY})
    if reply is None:
        return None
    if reply["type"] == "error":
        return 0
    return reply["value"]


def add(delta):
    while True:
        current = fresh_read()
        if current is None:
            return False
        reply = kv({"type": "cas", "key": KEY, "from": current, "to": current + delta,
                    "create_if_not_exists": True})
        if reply is not None and reply["type"] == "cas_ok":
            return True


def on_add(msg):
    delta = msg["body"]["delta"]
    if split:
        with seq_lock:
            local[0] += 1
            keep = local[0] % 4 == 0
            if keep:
                local[1] += delta
        if keep:
            node.reply(msg, {"type": "error", "code": 13, "text": "kept locally"})
            return
    ok = add(delta) and (not double or add(delta))
    if ok:
        node.reply(msg, {"type": "add_ok"})
    else:
        node.reply(msg, {"type": "error", "code": 13, "text": "seq-kv unreachable"})


def on_read(msg):
    value = fresh_read()
    if value is None:
        node.reply(msg, {"type": "error", "code": 11, "text": "seq-kv unreachable"})
    else:
        with seq_lock:
            extra = local[1]
        node.reply(msg, {"type": "read_ok", "value": value + extra})


node.on("add", on_add)
node.on("read", on_read)
node.run()
