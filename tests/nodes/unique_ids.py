#!/usr/bin/env python3
"""Correct unique ids: "<node>-<counter>". With argv[1] == "collide", ids are the bare
counter, so different nodes hand out the same ids (broken)."""
import json
import sys

collide = len(sys.argv) > 1 and sys.argv[1] == "collide"
node_id = None
counter = 0
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        reply = {"type": "init_ok"}
    else:
        counter += 1
        reply = {"type": "generate_ok", "id": counter if collide else f"{node_id}-{counter}"}
    reply["in_reply_to"] = body["msg_id"]
    print(json.dumps({"src": node_id, "dest": msg["src"], "body": reply}), flush=True)
