#!/usr/bin/env python3
"""A lin-kv node holding its own map (no replication): linearizable on one node, not on
two or more (each node answers from its own copy)."""
import json
import sys

node_id = None
values = {}

for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    kind = body["type"]
    key = json.dumps(body.get("key"))
    if kind == "init":
        node_id = body["node_id"]
        reply = {"type": "init_ok"}
    elif kind == "read":
        if key in values:
            reply = {"type": "read_ok", "value": values[key]}
        else:
            reply = {"type": "error", "code": 20, "text": "no such key"}
    elif kind == "write":
        values[key] = body["value"]
        reply = {"type": "write_ok"}
    elif kind == "cas":
        if key not in values:
            reply = {"type": "error", "code": 20, "text": "no such key"}
        elif values[key] != body["from"]:
            reply = {"type": "error", "code": 22, "text": "expected %s" % body["from"]}
        else:
            values[key] = body["to"]
            reply = {"type": "cas_ok"}
    else:
        continue
    reply["in_reply_to"] = body["msg_id"]
    sys.stdout.write(json.dumps({"src": node_id, "dest": msg["src"], "body": reply}) + "\n")
    sys.stdout.flush()
