"""A webhook receiver on loopback (http.server in a thread), written from the README.

It checks each request's signature the way the README tells integrators to (its own
HMAC code, not the product's), records what it got, and answers as the test scripts it:
a list of statuses (or ``("sleep", seconds)``) used one per request, then ``default``;
or ``fail_rate``: that share of requests answered 500 at random.
"""

import contextlib
import hashlib
import hmac
import json
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify_from_readme(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The README's receiver: parse t= and v1=, HMAC-SHA256 over "<t>." + body, compare."""
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in parts if key == "t"]
    signatures = [value for key, value in parts if key == "v1"]
    if not timestamps or abs(time.time() - int(timestamps[0])) > tolerance:
        return False
    signed = timestamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    valid: bool
    status: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str = ""
    script: list = field(default_factory=list)
    default: int = 200
    fail_rate: float = 0.0
    seed: int = 5
    received: list[Received] = field(default_factory=list)
    port: int = 0

    def __post_init__(self):
        self.lock = threading.Lock()
        self.random = random.Random(self.seed)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def next_answer(self):
        with self.lock:
            if self.script:
                return self.script.pop(0)
            if self.fail_rate and self.random.random() < self.fail_rate:
                return 500
            return self.default

    def accepted_event_ids(self) -> list[str]:
        return [r.json["id"] for r in self.received if 200 <= r.status < 300 and r.valid]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # the answer goes out at once (no delayed-ACK wait)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            header = self.headers.get("X-Helpdesk-Signature", "")
            valid = verify_from_readme(receiver.secret, header, body)
            answer = receiver.next_answer()
            if isinstance(answer, tuple):  # ("sleep", seconds): a receiver that hangs
                time.sleep(answer[1])
                answer = 200
            status = answer if valid else 401
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, dict(self.headers), body, valid, status)
                )
            payload = b'{"ok": true}' if status < 300 else b'{"error": "try again"}'
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the sender gave up (timeout)
                self.wfile.write(payload)

        def log_message(self, format, *args):
            return

    return Handler


@contextmanager
def running_receiver(receiver: Receiver):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
