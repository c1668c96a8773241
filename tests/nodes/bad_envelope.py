#!/usr/bin/env python3
"""Broken echo: answers init, then its first echo reply breaks the envelope, per argv[1]:
"extra-key" adds a top-level key, "bad-dest" addresses an unknown node, "body" sends a
non-object body."""
import json
import sys

mode = sys.argv[1] if len(sys.argv) > 1 else "extra-key"
node_id = None
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        out = {"src": node_id, "dest": msg["src"], "body": {"type": "init_ok", "in_reply_to": body["msg_id"]}}
    else:
        reply = {"type": "echo_ok", "echo": body["echo"], "in_reply_to": body["msg_id"]}
        out = {"src": node_id, "dest": msg["src"], "body": reply}
        if mode == "extra-key":
            out["trace"] = "abc"
        elif mode == "bad-dest":
            out["dest"] = "n9"
        else:
            out["body"] = [reply]
    print(json.dumps(out), flush=True)
