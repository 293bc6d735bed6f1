"""The stream process (popup.stream) under uvicorn, and a reader of its events, for tests and benches.

server = StreamServer(env)                    # uvicorn on a port of its own, env as a node's
reader = EventReader(server.url_of(popup.pk)) # reads in a thread, as a browser's EventSource
event = reader.next(lambda event: event.figures["units_left"] == 9)
"""

import contextlib
import http.client
import json
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import redis

from tests.plain_store.store import free_port, process_stop

ROOT = Path(__file__).resolve().parents[1]


def stream_keys_forget(redis_url: str) -> None:
    """Forget what earlier runs published on this Redis database (their pop-up ids repeat)."""
    connection = redis.Redis.from_url(redis_url)
    keys = list(connection.scan_iter("popup-stream:*"))
    if keys:
        connection.delete(*keys)


class StreamServer:
    """`uvicorn popup.stream:application` on a port of its own; its output in `log_path`."""

    def __init__(self, env: dict, *, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "popup.stream:application"]
                + ["--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
                + ["--timeout-graceful-shutdown", "2"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stream process did not start: {self.log()}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            connection.request("GET", "/")
            return connection.getresponse().status == 404
        return False

    def url_of(self, popup_id: int, language: str = "en") -> str:
        return f"{self.url}/popup/stream/{popup_id}/?lang={language}"

    def log(self) -> str:
        return self.log_path.read_text()[-3000:] if self.log_path.exists() else ""

    def close(self) -> None:
        process_stop(self.process)


@dataclass
class Event:
    name: str
    id: int
    data: str
    received_at: float  # time.time()

    @property
    def figures(self) -> dict:
        return json.loads(self.data)


@dataclass
class EventReader:
    """One stream read in a thread, as a browser's EventSource reads it (without reconnecting)."""

    url: str
    last_event_id: int | None = None
    status: int = 0
    headers: dict = field(default_factory=dict)
    retry: int | None = None

    def __post_init__(self) -> None:
        self.events: queue.Queue[Event | None] = queue.Queue()
        self.pings = 0
        parts = urlsplit(self.url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        self.connection.request("GET", f"{parts.path}?{parts.query}", headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = {name.lower(): value for name, value in self.response.getheaders()}
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        name, event_id, data = "message", 0, []
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                line = line.decode().rstrip("\r\n")
                if line.startswith("retry: "):
                    self.retry = int(line[7:])
                elif line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif not line and data:
                    if name == "ping":  # the heartbeat: the page's script only notes the time
                        self.pings += 1
                    else:
                        self.events.put(Event(name, event_id, "\n".join(data), time.time()))
                    name, event_id, data = "message", 0, []
        except (OSError, ValueError, AttributeError, http.client.HTTPException):  # closed
            pass
        self.events.put(None)  # the stream ended

    def next(self, condition=lambda event: True, *, timeout: float = 10.0) -> Event:
        """The next event meeting `condition`; AssertionError if none comes within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                event = self.events.get(timeout=max(0.01, left))
            except queue.Empty:
                raise AssertionError(f"no such event within {timeout} s") from None
            if event is None:
                raise AssertionError("the stream ended")
            if condition(event):
                return event

    def drain(self, seconds: float) -> list[Event]:
        """Every event that comes within `seconds`."""
        deadline, events = time.monotonic() + seconds, []
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if event is None:
                self.events.put(None)
                break
            events.append(event)
        return events

    def ended(self, *, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                if self.events.get(timeout=0.2) is None:
                    return True
        return False

    def close(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self.connection.sock.shutdown(socket.SHUT_RDWR)  # the reading thread ends too
        with contextlib.suppress(OSError):
            self.connection.close()
