"""A real local webhook receiver (http.server in a thread) that checks each delivery's signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Collects deliveries; ``answers`` is a list of statuses to give first (then 200)."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.answers: list[int] = []
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        # Clear ``release`` to hold each request unanswered until it is set; ``arrived`` is set
        # when a request has come in.
        self.release = threading.Event()
        self.release.set()
        self.arrived = threading.Event()

    def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (the same port again after a stop)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.arrived.set()
                receiver.release.wait(60)
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                with receiver.lock:
                    if not hmac.compare_digest(expected, self.headers.get("X-QMS-Signature", "")):
                        receiver.bad_signatures += 1
                        status = 401
                    else:
                        status = receiver.answers.pop(0) if receiver.answers else 200
                        receiver.received.append({"status": status, **json.loads(body)})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"not now")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port or self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Go away (connections are refused until started again)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> Receiver:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Where to subscribe."""
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted(self) -> list[dict[str, Any]]:
        """The deliveries answered 200."""
        with self.lock:
            return [r for r in self.received if r["status"] == 200]


@contextmanager
def running_receiver(secret: str = "") -> Iterator[Receiver]:
    """A receiver for the length of a block."""
    receiver = Receiver(secret)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


class Gateway:
    """A real local SMS gateway: records each request (method, path, headers, body); ``answers``
    is a list of statuses to give first (then 200)."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        # Clear ``release`` to hold each request unanswered until it is set; ``arrived`` is set
        # when a request has come in.
        self.release = threading.Event()
        self.release.set()
        self.arrived = threading.Event()

    def start(self) -> None:
        """Listen on 127.0.0.1."""
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with gateway.lock:
                    status = gateway.answers.pop(0) if gateway.answers else 200
                    gateway.requests.append(
                        {
                            "status": status,
                            "method": self.command,
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "body": body.decode("utf-8", "replace"),
                            "raw": body,
                        }
                    )
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b'{"code":"OK"}' if status == 200 else b'{"code":"busy"}')

            do_POST = do_GET = do_PUT = _answer  # noqa: N815 (http.server's names)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Go away."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        """The gateway's send address."""
        return f"http://127.0.0.1:{self.port}/send"

    def texts(self) -> list[dict[str, Any]]:
        """The JSON bodies of the requests answered 200."""
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests if r["status"] == 200]
