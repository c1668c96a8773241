#!/usr/bin/env python3
"""Hostile echo: answers init, then answers the first echo with one stdout line of
MIB mebibytes (argv[1], default 2048) that never ends: no newline, ever."""
import json
import sys

mebibytes = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
chunk = b"x" * (1 << 20)
node_id = None
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        reply = {"src": node_id, "dest": msg["src"],
                 "body": {"type": "init_ok", "in_reply_to": body["msg_id"]}}
        print(json.dumps(reply), flush=True)
        continue
    head = {"src": node_id, "dest": msg["src"], "body": {"type": "echo_ok"}}
    sys.stdout.buffer.write(json.dumps(head)[:-2].encode() + b', "echo": "')
    for _ in range(mebibytes):
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    break
