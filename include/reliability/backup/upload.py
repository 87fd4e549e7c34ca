"""A multipart upload fed chunk by chunk, sending parts from a background thread.

The producer (the pg_dump reader) is never held up by one slow request: parts go through a bounded
queue, so memory stays at about ``(queue_depth + 2) * part_size`` whatever the dump's size. Any failure
aborts the upload, so no half-written object is left behind, nor incomplete parts that S3 would keep
(and bill) until a lifecycle rule removes them.

Every part carries its CRC64NVME and the completion the CRC64NVME of the whole object (S3's full-object
checksum type), so S3 itself refuses a part or an object that arrived damaged, and stores a checksum that
later scrubs can check without the manifest.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading

from awscrt.checksums import crc64nvme

log = logging.getLogger(__name__)
_END = object()
CHECKSUM_ALGORITHM = "CRC64NVME"
CHECKSUM_TYPE = "FULL_OBJECT"


def crc64nvme_base64(crc: int) -> str:
    """A CRC64NVME as S3 writes it: the 8 big-endian bytes, base64."""
    return base64.b64encode(crc.to_bytes(8, "big")).decode("ascii")


class UploadFailed(RuntimeError):
    pass


class MultipartUpload:
    def __init__(self, s3, bucket: str, key: str, part_size: int, queue_depth: int = 2):
        self.s3, self.bucket, self.key, self.part_size = s3, bucket, key, part_size
        self.upload_id: str | None = None
        self.error: str | None = None
        self.completed = False
        self.checksum: str | None = None  # the object's CRC64NVME as S3 stored it, once completed
        self._crc = 0  # running CRC64NVME of every byte sent so far, in order
        self._buffer = bytearray()
        self._parts: list[dict] = []
        self._queue: queue.Queue = queue.Queue(maxsize=queue_depth)
        self._thread = threading.Thread(target=self._send_parts, name=f"upload:{key}", daemon=True)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def _upload(self) -> dict[str, str | None]:
        """The multipart upload, as each S3 call about it names it."""
        return {"Bucket": self.bucket, "Key": self.key, "UploadId": self.upload_id}

    def start(self) -> MultipartUpload:
        try:
            self.upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                ContentType="application/octet-stream",
                ChecksumAlgorithm=CHECKSUM_ALGORITHM,
                ChecksumType=CHECKSUM_TYPE,
            )["UploadId"]
        except Exception as exc:
            raise UploadFailed(f"could not start the upload of {self.url}: {describe_error(exc)}") from None
        self._thread.start()
        return self

    def write(self, chunk: bytes) -> None:
        if self.error:
            raise UploadFailed(self.error)
        self._buffer += chunk
        while len(self._buffer) >= self.part_size:
            part = bytes(memoryview(self._buffer)[: self.part_size])
            del self._buffer[: self.part_size]
            self._put(part)

    def _put(self, item) -> None:
        # A bounded put that notices a dead sender instead of waiting forever for room in the queue.
        while True:
            if self.error:
                raise UploadFailed(self.error)
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _send_parts(self) -> None:
        number = 0
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if self.error:
                continue  # drain, so that a producer blocked on put() is released
            number += 1
            self._crc = crc64nvme(item, self._crc)
            part_checksum = crc64nvme_base64(crc64nvme(item))
            try:
                response = self.s3.upload_part(
                    **self._upload,
                    PartNumber=number,
                    Body=item,
                    ChecksumAlgorithm=CHECKSUM_ALGORITHM,
                    ChecksumCRC64NVME=part_checksum,
                )
                self._parts.append(
                    {"PartNumber": number, "ETag": response["ETag"], "ChecksumCRC64NVME": part_checksum}
                )
            except Exception as exc:
                self.error = f"upload of part {number} of {self.url} failed: {describe_error(exc)}"

    def complete(self) -> None:
        """Send the rest and complete the upload; raise :class:`UploadFailed` (after aborting) on error."""
        try:
            if self._buffer or not self._parts:
                self._put(bytes(self._buffer))  # the last part may be small; an empty dump is one empty part
                self._buffer = bytearray()
            self._put(_END)
            self._thread.join()
            if self.error:
                raise UploadFailed(self.error)
            expected = crc64nvme_base64(self._crc)
            try:
                response = self.s3.complete_multipart_upload(
                    **self._upload,
                    MultipartUpload={"Parts": self._parts},
                    ChecksumCRC64NVME=expected,
                    ChecksumType=CHECKSUM_TYPE,
                )
            except Exception as exc:
                raise UploadFailed(
                    f"could not complete the upload of {self.url}: {describe_error(exc)}"
                ) from None
            self.completed = True
            stored = response.get("ChecksumCRC64NVME") or expected  # S3 compared it; some servers omit it
            if stored != expected:
                # Only a server that ignores the checksum it was given gets here: the object is not the dump.
                self.s3.delete_object(Bucket=self.bucket, Key=self.key)
                raise UploadFailed(
                    f"S3 stored {self.url} with CRC64NVME {stored}, but the bytes sent have {expected}: deleted"
                )
            self.checksum = stored
        except UploadFailed:
            self.abort()
            raise

    def abort(self) -> str | None:
        """Stop sending and abort the multipart upload; return why the abort failed, if it did."""
        if self.upload_id is None or self.completed:
            return None
        self.error = self.error or "aborted"
        if self._thread.is_alive():
            # With ``error`` set the sender drains the queue without sending, so there is room soon; a part
            # already in flight is waited for, so that it cannot land after the abort.
            try:
                self._queue.put(_END, timeout=120)
            except queue.Full:
                pass
            self._thread.join(timeout=120)
        try:
            self.s3.abort_multipart_upload(**self._upload)
        except Exception as exc:
            problem = f"could not abort the multipart upload of {self.url}: {describe_error(exc)}"
            log.error(problem)
            return problem
        finally:
            self.upload_id = None
        return None


def describe_error(exc: BaseException) -> str:
    """A short reason from a boto3/botocore (or any) error, without request signatures or credentials."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return f"{error.get('Code', type(exc).__name__)}: {error.get('Message', '')}".strip(": ")
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
