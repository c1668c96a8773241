#!/usr/bin/env python3
"""A g-counter as learners often write it: each node counts its own adds, and a read asks
every peer for its count, waiting up to 1 s for each answer. During a partition the reads
block, so every worker can be stuck at once; after the heal they answer promptly again.
Correct (a read is a sum of counts each node acknowledged), but slow under partitions."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maelstrom import Node  # noqa: E402

node = Node()
lock = threading.Lock()
mine = [0]
known = {}


def on_add(msg):
    with lock:
        mine[0] += msg["body"]["delta"]
    node.reply(msg, {"type": "add_ok"})


def on_count(msg):
    with lock:
        value = mine[0]
    node.reply(msg, {"type": "count_ok", "value": value})


def on_read(msg):
    total = 0
    for peer in node.node_ids:
        if peer == node.node_id:
            continue
        reply = node.rpc(peer, {"type": "count"}, timeout=1.0)
        with lock:
            if reply is not None:
                known[peer] = reply["value"]
            total += known.get(peer, 0)
    with lock:
        total += mine[0]
    node.reply(msg, {"type": "read_ok", "value": total})


node.on("add", on_add)
node.on("count", on_count)
node.on("read", on_read)
node.run()
