"""Support for the checksum tests: a fault-injecting proxy in front of the moto S3 server, and helpers.

The proxy forwards every request to moto unchanged, counts them, and on request answers a given key with
an error status (503 SlowDown, 500 InternalError) or cuts its body off half-way, so the tests exercise
the real retry path of botocore and of the library over real HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from reliability.backups.manifest import Manifest, manifest_key
from stack.processes import free_port

ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
    "<RequestId>fault-proxy</RequestId></Error>"
)


@dataclass
class Fault:
    key: str
    kind: str  # status | cut
    times: int | None  # None: every time
    status: int = 503
    code: str = "SlowDown"
    message: str = "Please reduce your request rate."
    after_bytes: int = 0


@dataclass
class FaultProxy:
    upstream: str
    port: int = field(default_factory=free_port)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, object key or "" for the bucket)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        parts = urlsplit(self.upstream)
        self._upstream_host, self._upstream_port = parts.hostname, parts.port
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(
        self,
        key: str,
        *,
        times: int | None = None,
        status: int = 503,
        code: str = "SlowDown",
        message: str = "Please reduce your request rate.",
    ) -> None:
        self.faults.append(Fault(key, "status", times, status=status, code=code, message=message))

    def cut(self, key: str, *, after_bytes: int, times: int | None = 1) -> None:
        self.faults.append(Fault(key, "cut", times, after_bytes=after_bytes))

    def gets(self, key: str | None = None) -> int:
        return sum(1 for m, k in self.requests if m == "GET" and k and (key is None or k == key))

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.requests if m == method)

    def take_fault(self, method: str, key: str) -> Fault | None:
        with self._lock:
            self.requests.append((method, key))
            for fault in self.faults:
                if method == "GET" and fault.key == key and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes):
        conn = http.client.HTTPConnection(self._upstream_host, self._upstream_port, timeout=30)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()


def _object_key(path: str) -> str:
    """The object key of a path-style request (``/bucket/key?query``); "" for bucket-level requests."""
    bare = path.split("?", 1)[0]
    _, _, key = bare.lstrip("/").partition("/")
    return unquote(key)


def _handler_for(proxy: FaultProxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _handle(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            key = _object_key(self.path)
            fault = proxy.take_fault(self.command, key)
            if fault is not None and fault.kind == "status":
                payload = ERROR_BODY.format(code=fault.code, message=fault.message).encode()
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            status, response_headers, payload = proxy.forward(self.command, self.path, headers, body)
            self.send_response(status)
            for name, value in response_headers:
                if name.lower() not in (
                    "connection",
                    "transfer-encoding",
                    "content-length",
                    "server",
                    "date",
                ):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if fault is not None and fault.kind == "cut":
                # Promise the whole body, send part of it, hang up: a connection lost mid-download.
                self.wfile.write(payload[: fault.after_bytes])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    return Handler


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def make_manifest(key: str, data: bytes, **overrides) -> Manifest:
    fields = {
        "database": "platform",
        "dump_key": key,
        "format": "custom",
        "compression": 6,
        "server_version": "15.8",
        "pg_dump_version": "15.8",
        "started_at": "2026-01-02T02:00:00+00:00",
        "finished_at": "2026-01-02T02:01:00+00:00",
        "size_bytes": len(data),
        "sha256": sha256_hex(data),
        "tables": {},
        "toc": {"TABLE": 0},
        "verdict": "verified",
    }
    fields.update(overrides)
    return Manifest(**fields)


def put_dump(s3, bucket: str, key: str, data: bytes, **manifest_overrides) -> None:
    """A dump object and its manifest, as the backup job leaves them."""
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    s3.put_object(
        Bucket=bucket, Key=manifest_key(key), Body=make_manifest(key, data, **manifest_overrides).to_json()
    )
