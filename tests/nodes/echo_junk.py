#!/usr/bin/env python3
"""Broken echo: after three echoes it prints a log line to stdout instead of stderr."""
import json
import sys

node_id = None
count = 0
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        reply = {"type": "init_ok"}
    else:
        count += 1
        if count == 3:
            print("DEBUG: handling echo number three", flush=True)
        reply = {"type": "echo_ok", "echo": body["echo"]}
    reply["in_reply_to"] = body["msg_id"]
    print(json.dumps({"src": node_id, "dest": msg["src"], "body": reply}), flush=True)
