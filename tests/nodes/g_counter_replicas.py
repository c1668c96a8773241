#!/usr/bin/env python3
"""A single-node g-counter that serves reads from two replicas in turn, as a learner's
eventually consistent node might: an add is applied to the "fast" replica at once and to
the "slow" one 0.3 s later, when it is acknowledged. Every read lies between the adds
acknowledged before it and the adds attempted before it ended, so Maelstrom's counter
checker passes it, but a read served by the slow replica can show less than an earlier
read served by the fast one (not monotonic). Run as a pn-counter it fails the same check
when increments it loses outweigh every decrement invoked so far (early in a run).
With argv[1] == "invent", reads come from the fast replica only, but the node's first
read shows 1000 less than it should: a count no set of adds makes (a negative g-counter).
Maelstrom checks final reads only, so it passes; `unwritten-reads` fails it."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maelstrom import Node  # noqa: E402

invent = len(sys.argv) > 1 and sys.argv[1] == "invent"
node = Node()
lock = threading.Lock()
fast = [0]
slow = [0]
reads = [0]


def on_add(msg):
    delta = msg["body"]["delta"]
    with lock:
        fast[0] += delta
    time.sleep(0.3)
    with lock:
        slow[0] += delta
    node.reply(msg, {"type": "add_ok"})


def on_read(msg):
    with lock:
        reads[0] += 1
        value = fast[0] if reads[0] % 2 or invent else slow[0]
        if invent and reads[0] == 1:
            value -= 1000
    node.reply(msg, {"type": "read_ok", "value": value})


node.on("add", on_add)
node.on("read", on_read)
node.run()
