"""Faults injected from outside the code under test: a proxy in front of localstripe.

The store is pointed at the proxy (STRIPE_API_BASE); each request goes on to localstripe unless a
rule matching its method and path says otherwise:

- "drop": the request reaches Stripe, but its answer never comes back (the connection is closed),
  as when the network or the web worker dies right after Stripe acted;
- "refuse": the request never reaches Stripe (the connection is closed at once);
- "stall": the request reaches Stripe, whose answer is held `stall_seconds` before the connection
  is closed, as a Stripe too slow for the client's timeout.

Rules are tried once each by default, like a fault that passes. A rule's `then` runs when it
applies, before the connection is closed: after Stripe answered for "drop", before anything for
"refuse" (say, to kill the web worker that sent the request).
"""

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from tests.plain_store.store import free_port


@dataclass
class Rule:
    method: str
    path: re.Pattern
    action: str  # "drop", "refuse" or "stall"
    times: int = 1
    then: Callable[[], None] | None = None


class StripeProxy:
    """An HTTP proxy on 127.0.0.1 in front of `upstream`, applying its rules."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.seen: list[str] = []  # "METHOD /path -> action" for each request
        self._lock = threading.Lock()  # requests come in on several threads
        self.stall_seconds = 10.0  # beyond the store's STRIPE_TIMEOUT (8 s)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                rule = proxy._rule(self.command, self.path)
                action = rule.action if rule else "pass"
                proxy.seen.append(f"{self.command} {self.path} -> {action}")
                if action == "refuse":
                    if rule.then:
                        rule.then()
                    self.close_connection = True
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = requests.request(
                    self.command,
                    f"{proxy.upstream}{self.path}",
                    data=body,
                    headers=headers,
                    timeout=30,
                )
                if action in ("drop", "stall"):
                    if action == "stall":
                        time.sleep(proxy.stall_seconds)
                    if rule.then:
                        rule.then()
                    self.close_connection = True
                    return
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def fail(
        self,
        method: str,
        path: str,
        action: str,
        *,
        times: int = 1,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Apply `action` to the next `times` requests whose path matches the regex `path`."""
        self.rules.append(Rule(method, re.compile(path), action, times, then))

    def _rule(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.times and rule.method == method and rule.path.search(path):
                    rule.times -= 1
                    return rule
        return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
