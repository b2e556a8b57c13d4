"""A webhook receiver on loopback for the tests: ``http.server`` in a thread on 127.0.0.1, a port
of its own, verifying every request with the reference verifier (``core.webhooks.verify``) as a
receiver is told to, and answering what the test asks (200, 500, a redirect)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from core.webhooks.verify import WebhookSignatureError, verify


@dataclass
class Received:
    delivery: str
    event: str
    body: dict[str, Any]
    timestamp: int


@dataclass
class Receiver:
    secret: str = ""
    status: int = 200
    location: str = ""  # for a 3xx answer
    window: float = 300
    delay: float = 0.0  # seconds to think before answering (widens a race)
    port: int = 0
    accepted: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the verifier's codes
    requests: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @property
    def deliveries(self) -> list[str]:
        return [item.delivery for item in self.accepted]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the base's name)
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.requests += 1
                    try:
                        timestamp = verify(
                            receiver.secret,
                            self.headers.get("X-ReformFlow-Timestamp", ""),
                            body,
                            self.headers.get("X-ReformFlow-Signature", ""),
                            now=time.time(),
                            window=receiver.window,
                        )
                    except WebhookSignatureError as exc:
                        receiver.refused.append(exc.code)
                        self._answer(401, exc.code)
                        return
                    if receiver.status != 200:
                        self._answer(receiver.status, "not now")
                        return
                    receiver.accepted.append(
                        Received(
                            delivery=self.headers["X-ReformFlow-Delivery"],
                            event=self.headers["X-ReformFlow-Event"],
                            body=json.loads(body),
                            timestamp=timestamp,
                        )
                    )
                    self._answer(200, "ok")

            def _answer(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        if not self.port:
            self.port = free_port()
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def free_port() -> int:
    """A port nothing listens on (yet): connecting to it is refused until a receiver starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def receiver_running(**values: Any) -> Iterator[Receiver]:
    receiver = Receiver(**values)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
