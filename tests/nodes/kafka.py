#!/usr/bin/env python3
"""A single-node kafka log (run it with --node-count 1). argv[1] picks a fault:
  (none)  correct: offsets 0, 1, 2, … per key; polls return up to 5 messages from the
          requested offset; committed offsets kept.
  lose    every 7th send is acknowledged but never stored (lost/unseen writes).
  reuse   every 7th send gets the previous send's offset (two messages at one offset).
  skip    polls leave out the second message of each answer (a poll skips an offset).
  lag     every other poll is served from a replica that receives each send 1 s late,
          so a node that showed offset o answers a later poll from o with nothing: fails
          `monotonic-reads` (no process sees its own polls go back, so Maelstrom passes it).
  ghost   every 5th non-empty poll answer gains a message nobody sent (at the key's next
          offset, then forgotten): fails `unwritten-reads` (Maelstrom: unknown)."""
import time
import json
import sys

mode = sys.argv[1] if len(sys.argv) > 1 else ""
node_id = None
logs = {}       # key -> list of (offset, msg)
committed = {}
sends = 0
polls = 0
LAG = 1.0       # seconds the lagging replica trails the log (mode lag)
replica = []    # (time visible, key, offset, msg) for the lagging replica (mode lag)


def send(key, msg):
    global sends
    sends += 1
    log = logs.setdefault(key, [])
    offset = log[-1][0] + 1 if log else 0
    if mode == "lose" and sends % 7 == 0:
        return offset + 1000
    if mode == "reuse" and sends % 7 == 0 and log:
        offset = log[-1][0]
    log.append((offset, msg))
    replica.append((time.time() + LAG, key, offset, msg))
    return offset


def lagging(key):
    now = time.time()
    return [(o, m) for (t, k, o, m) in replica if k == key and t <= now]


def poll(offsets):
    global polls
    polls += 1
    msgs = {}
    for key, start in offsets.items():
        source = lagging(key) if mode == "lag" and polls % 2 == 0 else logs.get(key, [])
        pairs = [[o, m] for (o, m) in source if o >= start][:5]
        if mode == "skip" and len(pairs) > 2:
            del pairs[1]
        if pairs:
            msgs[key] = pairs
    if mode == "ghost" and msgs and polls % 5 == 0:
        key = sorted(msgs)[0]
        msgs[key].append([msgs[key][-1][0] + 1, 1000000 + polls])
    return msgs


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    kind = body["type"]
    if kind == "init":
        node_id = body["node_id"]
        reply = {"type": "init_ok"}
    elif kind == "send":
        reply = {"type": "send_ok", "offset": send(body["key"], body["msg"])}
    elif kind == "poll":
        reply = {"type": "poll_ok", "msgs": poll(body["offsets"])}
    elif kind == "commit_offsets":
        for key, offset in body["offsets"].items():
            committed[key] = max(committed.get(key, 0), offset)
        reply = {"type": "commit_offsets_ok"}
    elif kind == "list_committed_offsets":
        found = {k: committed[k] for k in body["keys"] if k in committed}
        reply = {"type": "list_committed_offsets_ok", "offsets": found}
    else:
        continue
    reply["in_reply_to"] = body["msg_id"]
    sys.stdout.write(json.dumps({"src": node_id, "dest": msg["src"], "body": reply}) + "\n")
    sys.stdout.flush()
