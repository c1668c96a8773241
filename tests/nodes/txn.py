#!/usr/bin/env python3
"""A txn-list-append / txn-rw-register node holding its own state (no replication).
argv[1] picks a fault:
  (none)        correct on one node (serializable, even strict-serializable).
  intermediate  rw-register: a key written twice by one txn keeps the txn's FIRST write
                (others read an intermediate value: G1b).
  aborted       every 5th txn is applied, then answered with error 30 (txn-conflict, a
                definite failure): others read the aborted writes (G1a).
  lose          list-append: every 5th append is shown to its own txn's later reads but
                never stored (an acknowledged append is lost).
  zero          rw-register: a read of a key nobody wrote returns 0 instead of null.
On two or more nodes, even the correct mode serves stale reads (each node has its own
state): not strict-serializable."""
import json
import sys

mode = sys.argv[1] if len(sys.argv) > 1 else ""
node_id = None
state = {}
txns = 0
appends = 0


def run(txn):
    """Applies txn to the node's state; returns the completed txn."""
    global appends
    done = []
    local = {}
    first_writes = {}
    for f, k, v in txn:
        key = json.dumps(k)
        current = local[key] if key in local else state.get(key)
        if f == "r":
            if current is None and mode == "zero":
                current = 0
            done.append([f, k, list(current) if isinstance(current, list) else current])
        elif f == "append":
            appends += 1
            value = (current or []) + [v]
            local[key] = value
            if not (mode == "lose" and appends % 5 == 0):
                state[key] = (state.get(key) or []) + [v]
            done.append([f, k, v])
        else:
            local[key] = v
            first_writes.setdefault(key, v)
            state[key] = first_writes[key] if mode == "intermediate" else v
            done.append([f, k, v])
    return done


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        reply = {"type": "init_ok"}
    elif body["type"] == "txn":
        txns += 1
        done = run(body["txn"])
        if mode == "aborted" and txns % 5 == 0:
            reply = {"type": "error", "code": 30, "text": "aborted after applying"}
        else:
            reply = {"type": "txn_ok", "txn": done}
    else:
        continue
    reply["in_reply_to"] = body["msg_id"]
    sys.stdout.write(json.dumps({"src": node_id, "dest": msg["src"], "body": reply}) + "\n")
    sys.stdout.flush()
