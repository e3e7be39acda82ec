"""``s3://bucket/key`` URIs, split one way for the handlers, the constructs and the tools."""

from __future__ import annotations

SCHEME = "s3://"


def is_s3_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri.startswith(SCHEME)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``s3://bucket/key``; the key may be a folder's prefix, or empty. A string
    without the scheme is split as it is: callers that must refuse one ask :func:`is_s3_uri` first."""
    bucket, _, key = uri.removeprefix(SCHEME).partition("/")
    return bucket, key


def s3_arn(partition: str, uri: str) -> str:
    """The ARN of the object (or, with a trailing ``*``, the objects) ``uri`` names."""
    return f"arn:{partition}:s3:::{uri.removeprefix(SCHEME)}"
