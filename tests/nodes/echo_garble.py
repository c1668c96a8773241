#!/usr/bin/env python3
"""Broken echo: answers with the text reversed (the checker must flag it)."""
import json
import sys

node_id = None
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        reply = {"type": "init_ok"}
    else:
        reply = {"type": "echo_ok", "echo": body["echo"][::-1]}
    reply["in_reply_to"] = body["msg_id"]
    print(json.dumps({"src": node_id, "dest": msg["src"], "body": reply}), flush=True)
