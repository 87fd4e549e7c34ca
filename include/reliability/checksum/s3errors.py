"""Which S3 errors are worth another read, which mean "not found", and how a failure is described.

Descriptions never carry a request's signature or credentials (botocore's messages carry neither).
"""

from __future__ import annotations

from reliability.checksum.parts import VersionChanged

_RETRYABLE_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "TooManyRequests",
    "RequestLimitExceeded",
    "RequestTimeout",
    "InternalError",
    "ServiceUnavailable",
    "BadGateway",
    "GatewayTimeout",
}
_NOT_FOUND_CODES = {"NoSuchKey", "NotFound", "404"}


def describe_error(exc: BaseException) -> str:
    """What failed, without the request's signature or credentials (botocore messages carry neither)."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{error.get('Code', 'error')} (HTTP {status}): {error.get('Message', '')}".strip()[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


def is_retryable(exc: BaseException) -> bool:
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )
    from urllib3.exceptions import HTTPError as Urllib3Error

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in _RETRYABLE_CODES or status >= 500 or status == 429 or status == 412
    return isinstance(
        exc,
        (
            VersionChanged,
            ConnectionError,
            ReadTimeoutError,
            ResponseStreamingError,
            IncompleteReadError,
            Urllib3Error,
            OSError,
        ),
    )


def is_not_found(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES
