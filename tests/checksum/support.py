"""Support for the checksum tests: a fault-injecting proxy in front of the moto S3 server, and helpers.

The proxy forwards every request to moto unchanged, counts them, and on request answers a given key with
an error status (503 SlowDown, 500 InternalError) or cuts its body off half-way, so the tests exercise
the real retry path of botocore and of the library over real HTTP. It can also damage what a GET returns
as rot at rest would (a flipped byte, a shortened body with a matching Content-Length, a rewritten
checksum header), and complete moto's GetObjectAttributes answer with the ``ObjectParts`` that moto
5.2.5 does not return (built from moto's own HeadObject ``partNumber`` answers, or deliberately wrong).
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
    kind: str  # status | cut | flip | truncate | header
    times: int | None  # None: every time
    status: int = 503
    code: str = "SlowDown"
    message: str = "Please reduce your request rate."
    after_bytes: int = 0
    op: str = "object"  # object (GET of the body) | attributes (GetObjectAttributes) | head
    header: tuple[str, str] | None = None


@dataclass
class FaultProxy:
    upstream: str
    port: int = field(default_factory=free_port)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, object key or "" for the bucket)
    faults: list[Fault] = field(default_factory=list)
    # key -> None (true part sizes from moto) or a list of part sizes to answer instead
    object_parts: dict[str, list[int] | None] = field(default_factory=dict)

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

    def flip(self, key: str, *, at: int, times: int | None = None) -> None:
        """Every GET of ``key`` returns its bytes with the byte at offset ``at`` changed (rot at rest)."""
        self.faults.append(Fault(key, "flip", times, after_bytes=at))

    def truncate(self, key: str, *, keep: int, times: int | None = None) -> None:
        """Every GET of ``key`` returns only its first ``keep`` bytes, with a Content-Length to match."""
        self.faults.append(Fault(key, "truncate", times, after_bytes=keep))

    def rewrite_header(self, key: str, name: str, value: str) -> None:
        """GETs of ``key`` answer header ``name`` (e.g. x-amz-checksum-sha256) with ``value``."""
        self.faults.append(Fault(key, "header", None, header=(name.lower(), value)))

    def fail_attributes(self, key: str, *, status: int, code: str, message: str = "denied") -> None:
        self.faults.append(
            Fault(key, "status", None, status=status, code=code, message=message, op="attributes")
        )

    def gets(self, key: str | None = None) -> int:
        """GETs of object bodies (GetObjectAttributes calls not counted)."""
        return sum(1 for m, k in self.requests if m == "GET" and k and (key is None or k == key))

    def count(self, method: str, key: str | None = None) -> int:
        return sum(1 for m, k in self.requests if m == method and (key is None or k == key))

    def take_fault(self, method: str, key: str, op: str = "object") -> Fault | None:
        with self._lock:
            self.requests.append((method if op != "attributes" else "ATTRIBUTES", key))
            for fault in self.faults:
                if fault.kind == "header" or fault.op != op:
                    continue
                if method == "GET" and fault.key == key and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def header_rewrites(self, key: str) -> dict[str, str]:
        return dict(f.header for f in self.faults if f.kind == "header" and f.key == key and f.header)

    def parts_xml(self, path: str, key: str) -> bytes:
        """``<ObjectParts>`` for ``key``: from moto's HeadObject partNumber answers, or the configured sizes."""
        sizes = self.object_parts[key]
        if sizes is None:
            bare = path.split("?", 1)[0]
            status, headers, _ = self.forward("HEAD", f"{bare}?partNumber=1", {}, b"")
            count = int(dict((k.lower(), v) for k, v in headers).get("x-amz-mp-parts-count", "0"))
            sizes = []
            for number in range(1, count + 1):
                _, headers, _ = self.forward("HEAD", f"{bare}?partNumber={number}", {}, b"")
                sizes.append(int(dict((k.lower(), v) for k, v in headers)["content-length"]))
        if not sizes:
            return b""
        parts = "".join(
            f"<Part><PartNumber>{i}</PartNumber><Size>{n}</Size></Part>" for i, n in enumerate(sizes, 1)
        )
        return (
            f"<ObjectParts><TotalPartsCount>{len(sizes)}</TotalPartsCount><PartNumberMarker>0</PartNumberMarker>"
            f"<NextPartNumberMarker>{len(sizes)}</NextPartNumberMarker><MaxParts>1000</MaxParts>"
            f"<IsTruncated>false</IsTruncated>{parts}</ObjectParts>"
        ).encode()

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
            query = self.path.partition("?")[2]
            op = (
                "attributes"
                if "attributes" in query.split("&")
                else ("head" if self.command == "HEAD" else "object")
            )
            fault = proxy.take_fault(self.command, key, op)
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
            if (
                op == "attributes"
                and status == 200
                and key in proxy.object_parts
                and b"<ObjectParts>" not in payload
            ):
                end = payload.rindex(b"</")
                payload = payload[:end] + proxy.parts_xml(self.path, key) + payload[end:]
            if op == "object" and self.command == "GET" and status == 200 and fault is not None:
                if fault.kind == "flip" and fault.after_bytes < len(payload):
                    damaged = bytearray(payload)
                    damaged[fault.after_bytes] ^= 0x01
                    payload = bytes(damaged)
                elif fault.kind == "truncate":
                    payload = payload[: fault.after_bytes]
            rewrites = proxy.header_rewrites(key) if op == "object" else {}
            response_headers = [(n, rewrites.pop(n.lower(), v)) for n, v in response_headers]
            response_headers += list(rewrites.items())  # the ones the object did not have
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
            if self.command == "HEAD":  # no body: the upstream's Content-Length is the object's (or part's)
                upstream = dict((n.lower(), v) for n, v in response_headers).get("content-length", "0")
                self.send_header("Content-Length", upstream)
                self.end_headers()
                return
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
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


def s3_client_for(url: str, **config):
    """A boto3 S3 client for the moto server at ``url`` (``config``: botocore Config options)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config),
    )
