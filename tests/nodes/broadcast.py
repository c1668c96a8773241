#!/usr/bin/env python3
"""Broadcast / g-set node.

Modes (argv[1]): none = broadcast with periodic anti-entropy to every peer (survives
partitions); "lossy" = forward each new value once, fire-and-forget, never retry (loses
values under partitions); "gset" = the g-set protocol (add/element, read -> value); "deaf" = broadcast,
but node n0 ignores its peers' gossip (it never learns their values, while they learn its
own): its reads, final ones included, lack every value added elsewhere; "gset-list" = the
g-set protocol keeping a list, not a set: an element added twice is read twice (Maelstrom's
generator never adds one twice, so only `--extra-checks`' duplicate adds expose it).
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maelstrom import Node  # noqa: E402

mode = sys.argv[1] if len(sys.argv) > 1 else ""
node = Node()
values = set()
lock = threading.Lock()
add_type, add_key, read_key = ("add", "element", "value") if mode.startswith("gset") else ("broadcast", "message", "messages")
duplicates = []  # gset-list: every add again, in order


def peers():
    return [n for n in node.node_ids if n != node.node_id]


def on_add(msg):
    value = msg["body"][add_key]
    with lock:
        new = value not in values
        values.add(value)
        if mode == "gset-list":
            duplicates.append(value)
    node.reply(msg, {"type": add_type + "_ok"})
    if new and mode == "lossy":
        for peer in peers():
            node.send(peer, {"type": "gossip", "values": [value]})


def on_read(msg):
    with lock:
        snapshot = sorted(values) if mode != "gset-list" else sorted(duplicates)
    node.reply(msg, {"type": "read_ok", read_key: snapshot})


def on_gossip(msg):
    if mode == "deaf" and node.node_id == "n0":
        return
    with lock:
        values.update(msg["body"]["values"])


def on_topology(msg):
    node.reply(msg, {"type": "topology_ok"})


def anti_entropy():
    with lock:
        snapshot = sorted(values)
    if snapshot:
        for peer in peers():
            node.send(peer, {"type": "gossip", "values": snapshot})


node.on(add_type, on_add)
node.on("read", on_read)
node.on("gossip", on_gossip)
node.on("topology", on_topology)
if mode != "lossy":
    node.every(0.2, anti_entropy)
node.run()
