"""A fake Bedrock runtime at the botocore level, for ``bedrock-estate bench`` tests.

A real boto3 ``bedrock-runtime`` client (request validated and serialized by botocore) whose HTTP
send is answered by a ``before-send`` handler: either an HTTP error (e.g. 429 ThrottlingException)
or a 200 response whose body is binary AWS event-stream messages, parsed by botocore's own
EventStream parser. Every event comes with a delay: the fake advances a per-thread virtual clock
by it just before botocore reads the event, so the benchmark's timings are exact.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.awsrequest import AWSResponse


class ThreadClock:
    """Virtual seconds, kept per thread: concurrent requests each see only their own delays."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self) -> float:
        return getattr(self._local, "now", 0.0)

    def advance(self, seconds: float) -> None:
        self._local.now = self() + seconds


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack("B", len(raw_name)) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value


def encode_message(headers: dict[str, str], payload: dict[str, Any]) -> bytes:
    """One event-stream message: prelude (lengths, CRC), string headers, JSON payload, message CRC."""
    head = b"".join(_header(k, v) for k, v in headers.items())
    body = json.dumps(payload).encode()
    total = 12 + len(head) + len(body) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + head + body
    return message + struct.pack(">I", binascii.crc32(message) & 0xFFFFFFFF)


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    return encode_message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}, payload
    )


def chunk(payload: dict[str, Any]) -> bytes:
    """One ``InvokeModelWithResponseStream`` chunk: the ``chunk`` event, whose ``bytes`` (a blob,
    base64 in the event's JSON, as botocore's service model declares ``PayloadPart``) is ``payload``."""
    return event("chunk", {"bytes": base64.b64encode(json.dumps(payload).encode()).decode()})


def invoke_format_of(body: dict[str, Any]) -> str:
    """Which of an imported model's formats a request body is in, by its fields (as Bedrock tells them apart)."""
    if "messages" in body:
        return "OpenAIChatCompletion"
    return "BedrockCompletion" if "max_gen_len" in body else "OpenAICompletion"


def prompt_of(body: dict[str, Any]) -> str:
    """The user's prompt of a ConverseStream or an InvokeModel request body."""
    if "messages" in body:
        content = body["messages"][-1]["content"]
        return content if isinstance(content, str) else content[0]["text"]
    return str(body["prompt"]).rsplit("\n\n", 1)[-1]


def format_chunks(
    fmt: str, pieces: list[str], *, input_tokens: int, output_tokens: int, latency_ms: int, final: bool = True
) -> tuple[list[bytes], bytes | None]:
    """The chunks of an answer in ``fmt``, one per piece of text, and the final chunk (``None``
    when the answer is cut short): the finish reason, the usage and Bedrock's invocation metrics."""

    def text(piece: str) -> dict[str, Any]:
        if fmt == "BedrockCompletion":
            return {"generation": piece, "stop_reason": None}
        if fmt == "OpenAICompletion":
            return {"choices": [{"index": 0, "text": piece, "finish_reason": None}]}
        return {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }

    body = [chunk(text(piece)) for piece in pieces]
    if not final:
        return body, None
    metrics = {
        "inputTokenCount": input_tokens,
        "outputTokenCount": output_tokens,
        "invocationLatency": latency_ms,
        "firstByteLatency": 1,
    }
    if fmt == "BedrockCompletion":
        last: dict[str, Any] = {
            "generation": "",
            "prompt_token_count": input_tokens,
            "generation_token_count": output_tokens,
            "stop_reason": "stop",
        }
    else:
        key = "text" if fmt == "OpenAICompletion" else "delta"
        last = {
            "choices": [{"index": 0, key: "" if key == "text" else {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens},
        }
    last["amazon-bedrock-invocationMetrics"] = metrics
    return body, chunk(last)


def invoked(
    fmt: str,
    ttft: float,
    total: float,
    output_tokens: int,
    *,
    input_tokens: int = 20,
    chunks: int = 4,
    text: str | None = None,
    final: bool = True,
) -> Reply:
    """A successful InvokeModelWithResponseStream answer in ``fmt``: first text at ``ttft``, the
    final chunk at ``total``. Without ``final`` the stream ends cleanly before it (cut short)."""
    gap = (total - ttft) / chunks
    if text is None:
        pieces = ["Hello"] + [" more"] * (chunks - 1)
    else:
        size = -(-len(text) // chunks) or 1
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
    body, last = format_chunks(
        fmt, pieces, input_tokens=input_tokens, output_tokens=output_tokens, latency_ms=int(total * 1000), final=final
    )
    events = [(ttft if i == 0 else gap, message) for i, message in enumerate(body)]
    if last is not None:
        events.append((gap, last))
    return Reply(events=events)


def stream_exception(exception_type: str, message: str) -> bytes:
    return encode_message(
        {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"},
        {"message": message},
    )


@dataclass
class Reply:
    """What the fake answers to one request."""

    connect: float = 0.0  # seconds before the response headers
    events: list[tuple[float, bytes]] = field(default_factory=list)  # (delay before it, message)
    http_status: int = 200
    error_code: str | None = None  # for an HTTP error; None: a bare error, as a proxy sends (no code, an HTML body)


def streamed(
    ttft: float,
    total: float,
    output_tokens: int,
    *,
    input_tokens: int = 20,
    chunks: int = 4,
    served_latency: str | None = "standard",
    served_tier: str | None = None,
    text: str | None = None,
    message_stop: bool = True,
    metadata_event: bool = True,
) -> Reply:
    """A successful stream: first text at ``ttft``, the end at ``total`` (seconds after the call).
    ``text`` (default "Hello more more more") arrives in ``chunks`` deltas. Without ``message_stop``
    or ``metadata_event`` the stream ends cleanly without that event (a connection cut short)."""
    gap = (total - ttft) / chunks
    if text is None:
        pieces = ["Hello"] + [" more"] * (chunks - 1)
    else:
        size = -(-len(text) // chunks) or 1
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        pieces += [""] * (chunks - len(pieces))
    events = [(0.0, event("messageStart", {"role": "assistant"}))]
    events.append((ttft, event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": pieces[0]}})))
    for piece in pieces[1:]:
        events.append((gap, event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})))
    events.append((0.0, event("contentBlockStop", {"contentBlockIndex": 0})))
    if message_stop:
        events.append((0.0, event("messageStop", {"stopReason": "end_turn"})))
    metadata: dict[str, Any] = {
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": int(total * 1000)},
    }
    if served_latency:
        metadata["performanceConfig"] = {"latency": served_latency}
    if served_tier:
        metadata["serviceTier"] = {"type": served_tier}
    if metadata_event:
        events.append((gap, event("metadata", metadata)))
    return Reply(events=events)


def throttled_call() -> Reply:
    return Reply(connect=0.1, http_status=429, error_code="ThrottlingException")


def throttled_in_stream(after: float = 0.2) -> Reply:
    return failed_in_stream("throttlingException", after)


def failed_in_stream(exception_type: str, after: float = 0.2) -> Reply:
    """The stream starts, then carries the exception ``exception_type`` (a member of ConverseStreamOutput)."""
    return Reply(
        events=[
            (0.0, event("messageStart", {"role": "assistant"})),
            (after, stream_exception(exception_type, "fake")),
        ]
    )


class _Body:
    """The raw HTTP body botocore streams from: advances the clock before each message."""

    def __init__(self, clock: ThreadClock, events: list[tuple[float, bytes]]):
        self._clock, self._events = clock, events

    def stream(self, **_: Any):
        for delay, message in self._events:
            self._clock.advance(delay)
            yield message


class FakeRuntime:
    """``respond(request_body: dict) -> Reply`` decides each answer; ``requests`` keeps every body sent."""

    def __init__(self, respond: Callable[[dict[str, Any]], Reply], region: str = "us-east-2"):
        self.clock = ThreadClock()
        self.respond = respond
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.session = boto3.Session(aws_access_key_id="fake", aws_secret_access_key="fake", region_name=region)
        self._clients: list[Any] = []

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-send.bedrock-runtime.ConverseStream", self._send)
        client.meta.events.register("before-send.bedrock-runtime.InvokeModelWithResponseStream", self._send)
        # Every answer comes from ``_send``: nothing of this client may reach the network, not even
        # the connections ``bench.warm_connections`` opens ahead of a real-time run.
        client._endpoint.http_session = _NoNetwork()
        self._clients.append(client)
        return client

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        body = json.loads(request.body)
        path = request.url.split("/model/", 1)[1]
        invoke = "/invoke-with-response-stream" in path
        body["modelId"] = unquote(path.split("/invoke-with-response-stream" if invoke else "/converse-stream", 1)[0])
        body["operation"] = "InvokeModelWithResponseStream" if invoke else "ConverseStream"
        with self._lock:
            self.requests.append(body)
        reply = self.respond(body)
        self.clock.advance(reply.connect)
        if reply.http_status != 200 and reply.error_code is None:
            page = f"<html><body><h1>{reply.http_status}</h1></body></html>".encode()
            return AWSResponse(request.url, reply.http_status, {"content-type": "text/html"}, _Static(page))
        if reply.http_status != 200:
            payload = json.dumps({"message": f"fake {reply.error_code}"}).encode()
            headers = {
                "x-amzn-ErrorType": f"{reply.error_code}:http://internal.amazon.com/",
                "content-type": "application/json",
            }
            return AWSResponse(request.url, reply.http_status, headers, _Static(payload))
        return AWSResponse(
            request.url, 200, {"content-type": "application/vnd.amazon.eventstream"}, _Body(self.clock, reply.events)
        )


class _NoNetwork:
    """An HTTP layer that refuses to send: the fake answers every request before it would."""

    def send(self, request: Any) -> Any:
        raise AssertionError(f"the fake runtime answers every request; {request.url} reached the network")


class _Static:
    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_: Any):
        yield self._data


class FakeSession:
    """Stands in for a boto3 session in ``bench.main``: its runtime clients are wired to the fake;
    other clients (e.g. CloudFormation) come from ``others``."""

    def __init__(self, fake: FakeRuntime, others: dict[str, Any] | None = None):
        self.fake = fake
        self.others = others or {}
        self.region_name = fake.session.region_name

    def get_credentials(self) -> Any:
        return self.fake.session.get_credentials()

    def client(self, name: str, **kwargs: Any) -> Any:
        if name in self.others:
            return self.others[name]
        client = self.fake.session.client(name, **kwargs)
        return self.fake.attach(client) if name == "bedrock-runtime" else client
