#!/usr/bin/env python3
"""Broken node: answers init, then never reads STDIN again (its pipe fills up)."""
import json
import sys
import time

line = sys.stdin.readline()
msg = json.loads(line)
body = msg["body"]
reply = {"type": "init_ok", "in_reply_to": body["msg_id"]}
print(json.dumps({"src": body["node_id"], "dest": msg["src"], "body": reply}), flush=True)
time.sleep(3600)
