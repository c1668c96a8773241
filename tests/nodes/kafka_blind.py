#!/usr/bin/env python3
"""A two-node kafka (run it with --node-count 2): n0 holds the logs, n1 forwards every
request to n0 and relays the answer, but n1 is blind to keys with an odd name: its poll
answers never hold their messages. Every offset is n0's, every message is seen by n0's
consumers, and no consumer of n1 ever sees a key's offsets go back or skip, so
Maelstrom's kafka checker passes it; n1's final polls lack every odd key's messages, so
`convergence` fails it."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maelstrom import Node  # noqa: E402

node = Node()
logs = {}
committed = {}
lock = threading.Lock()


def local(body):
    kind = body["type"]
    if kind == "send":
        log = logs.setdefault(body["key"], [])
        log.append(body["msg"])
        return {"type": "send_ok", "offset": len(log) - 1}
    if kind == "poll":
        msgs = {}
        for key, start in body["offsets"].items():
            pairs = [[o, m] for o, m in enumerate(logs.get(key, [])) if o >= start][:5]
            if pairs:
                msgs[key] = pairs
        return {"type": "poll_ok", "msgs": msgs}
    if kind == "commit_offsets":
        for key, offset in body["offsets"].items():
            committed[key] = max(committed.get(key, 0), offset)
        return {"type": "commit_offsets_ok"}
    found = {k: committed[k] for k in body["keys"] if k in committed}
    return {"type": "list_committed_offsets_ok", "offsets": found}


def blind(key):
    return key.isdigit() and int(key) % 2 == 1


def handle(msg):
    body = {k: v for k, v in msg["body"].items() if k != "msg_id"}
    if node.node_id == node.node_ids[0]:
        with lock:
            answer = local(body)
        node.reply(msg, answer)
        return
    answer = node.rpc(node.node_ids[0], body, timeout=1.0)
    if answer is None:
        node.reply(msg, {"type": "error", "code": 11, "text": "n0 unreachable"})
        return
    answer = {k: v for k, v in answer.items() if k not in ("msg_id", "in_reply_to")}
    if answer["type"] == "poll_ok":
        answer["msgs"] = {k: v for k, v in answer["msgs"].items() if not blind(k)}
    node.reply(msg, answer)


for kind in ("send", "poll", "commit_offsets", "list_committed_offsets"):
    node.on(kind, handle)
node.run()
