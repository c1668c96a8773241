#!/usr/bin/env python3
"""An echo node as a learner might write it: it answers its Nth echo (argv[1], default 3)
DELAY seconds late (argv[2], default 12), every other echo at once. With DELAY past the
client's 5 s timeout, the late reply goes to a client Maelstrom has already closed; with
argv[3] == "twice", the Nth echo is answered at once and again DELAY seconds later."""
import json
import os
import select
import sys
import time

nth = int(sys.argv[1]) if len(sys.argv) > 1 else 3
delay = float(sys.argv[2]) if len(sys.argv) > 2 else 12.0
twice = len(sys.argv) > 3 and sys.argv[3] == "twice"
node_id = None
echoes = 0
held = []  # (due, line), sent once due
pending = b""


def send(dest, body):
    return json.dumps({"src": node_id, "dest": dest, "body": body}) + "\n"


def handle(line):
    global node_id, echoes
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        reply = {"type": "init_ok", "in_reply_to": body["msg_id"]}
    elif body["type"] == "echo":
        echoes += 1
        reply = {"type": "echo_ok", "echo": body["echo"], "in_reply_to": body["msg_id"]}
        if echoes == nth:
            held.append((time.monotonic() + delay, send(msg["src"], reply)))
            if not twice:
                return
    else:
        return
    sys.stdout.write(send(msg["src"], reply))
    sys.stdout.flush()


while True:
    timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
    readable, _, _ = select.select([0], [], [], timeout)
    now = time.monotonic()
    for due, line in [h for h in held if h[0] <= now]:
        sys.stdout.write(line)
        sys.stdout.flush()
    held = [h for h in held if h[0] > now]
    if readable:
        data = os.read(0, 65536)
        if not data:
            break
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                handle(line)
