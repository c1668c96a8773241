"""Tiny Maelstrom node library for the harness tests (stdlib only).

Handlers run on their own thread, so a handler may block on `rpc` without stalling the
read loop (MAELSTROM.md section 1.1).
"""
import json
import sys
import threading


class Node:
    def __init__(self):
        self.node_id = None
        self.node_ids = []
        self.handlers = {}
        self.lock = threading.Lock()
        self.out_lock = threading.Lock()
        self.next_msg_id = 0
        self.callbacks = {}
        self.on_init = None

    def on(self, kind, handler):
        self.handlers[kind] = handler

    def log(self, *args):
        print(*args, file=sys.stderr, flush=True)

    def send(self, dest, body):
        line = json.dumps({"src": self.node_id, "dest": dest, "body": body})
        with self.out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def reply(self, request, body):
        body = dict(body)
        body["in_reply_to"] = request["body"]["msg_id"]
        self.send(request["src"], body)

    def rpc(self, dest, body, timeout=1.0):
        """Blocking RPC; returns the reply body or None on timeout."""
        done = threading.Event()
        box = {}
        with self.lock:
            self.next_msg_id += 1
            msg_id = self.next_msg_id
            self.callbacks[msg_id] = (done, box)
        body = dict(body)
        body["msg_id"] = msg_id
        self.send(dest, body)
        done.wait(timeout)
        with self.lock:
            self.callbacks.pop(msg_id, None)
        return box.get("reply")

    def every(self, seconds, fn):
        def loop():
            while True:
                threading.Event().wait(seconds)
                try:
                    fn()
                except Exception as e:  # keep the timer alive
                    self.log("timer error", e)
        threading.Thread(target=loop, daemon=True).start()

    def _dispatch(self, msg):
        body = msg["body"]
        irt = body.get("in_reply_to")
        if irt is not None:
            with self.lock:
                entry = self.callbacks.get(irt)
            if entry:
                entry[1]["reply"] = body
                entry[0].set()
            return
        if body["type"] == "init":
            self.node_id = body["node_id"]
            self.node_ids = body["node_ids"]
            if self.on_init:
                self.on_init()
            self.reply(msg, {"type": "init_ok"})
            return
        handler = self.handlers.get(body["type"])
        if handler is None:
            self.reply(msg, {"type": "error", "code": 10, "text": "unsupported"})
            return
        threading.Thread(target=handler, args=(msg,), daemon=True).start()

    def run(self):
        for line in sys.stdin:
            line = line.strip()
            if line:
                self._dispatch(json.loads(line))
