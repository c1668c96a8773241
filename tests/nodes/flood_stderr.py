#!/usr/bin/env python3
"""Hostile echo: first writes MIB mebibytes (argv[1], default 2048) to stderr with no
newline, then a last line. With `crash` it then exits 3; otherwise it is a correct echo."""
import json
import sys

mebibytes = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
chunk = b"x" * (1 << 20)
for _ in range(mebibytes):
    sys.stderr.buffer.write(chunk)
sys.stderr.buffer.write(b"\nlast words after the flood\n")
sys.stderr.buffer.flush()
if "crash" in sys.argv[2:]:
    sys.exit(3)

node_id = None
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        reply = {"type": "init_ok"}
    else:
        reply = {"type": "echo_ok", "echo": body["echo"]}
    reply["in_reply_to"] = body["msg_id"]
    print(json.dumps({"src": node_id, "dest": msg["src"], "body": reply}), flush=True)
