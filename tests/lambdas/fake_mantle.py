"""A stateful fake of Bedrock's OpenAI-compatible fine-tuning API (``bedrock-mantle``), standing in
for ``estate_runtime.mantle.MantleClient`` with the same methods.

botocore has no model of this API, so the fake checks each request against what the user guide
documents (purpose ``fine-tune``; ``method.type`` ``reinforcement`` with a Lambda grader; the
models the guide names) and answers in OpenAI's shapes (the reference the guide points to). Its
errors go through the client's own HTTP-to-error mapping (``mantle._answer``), so a handler sees
exactly what the real client raises. Faults: ``fail_next`` (an HTTP error with the service's
message) and ``lose_next`` (the request takes effect, its answer is lost).

``http(clock)`` is the same fake one level down, for ``bench`` and ``gate``: the HTTP layer a real
``MantleClient`` sends its signed requests to (so its signing, routes and server-sent events are
what is tested), answering ``GET /v1/fine_tuning/jobs/{id}`` from the jobs above and ``POST
/v1/chat/completions`` from ``respond(body) -> ChatReply`` for a succeeded job's
``fine_tuned_model``, checked against OpenAI's chat completions reference (the guide's "for
complete API details"): ``model``, ``messages`` of ``{role, content}``, ``stream: true``,
``stream_options.include_usage``. A reply streams ``data:`` lines, each after its delay on a
virtual clock, ending as the script says (``finish_reason``, the usage chunk, ``[DONE]``, or cut)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import ClientError, ReadTimeoutError

from estate_runtime import mantle

from . import service_fake

MODELS = ("openai.gpt-oss-20b", "qwen.qwen3-32b")
LIVE = ("validating_files", "queued", "running")


class FakeMantle:
    # What the permission proof reads of a fake (tests/gates/proof.py): its service's name.
    model = SimpleNamespace(service_name="bedrock-mantle")

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.page_size = 2  # small, so handlers must read past the first page
        self.cancel_takes_effect = True
        self._faults: dict[str, list[tuple[int, str, str | None]]] = {}
        self._lost: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._clock = itertools.count(1_770_000_000)

    # -- faults ---------------------------------------------------------------------------------
    def fail_next(
        self, operation: str, status: int, message: str = "injected", code: str | None = None, times: int = 1
    ):
        self._faults.setdefault(operation, []).extend([(status, message, code)] * times)

    def lose_next(self, operation: str) -> None:
        """The next ``operation`` takes effect and its answer is lost (a read timeout)."""
        self._lost[operation] = self._lost.get(operation, 0) + 1

    def _enter(self, operation: str, params: dict[str, Any]) -> None:
        self.calls.append((operation, params))
        for record in service_fake.RECORDERS:  # the permission proof, by the API's action-like name
            record(self, "".join(part.capitalize() for part in operation.split("_")), params)
        queued = self._faults.get(operation)
        if queued:
            status, message, code = queued.pop(0)
            body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
            mantle._answer(operation, status, json.dumps(body).encode())

    def _leave(self, operation: str, answer: dict[str, Any]) -> dict[str, Any]:
        if self._lost.get(operation):
            self._lost[operation] -= 1
            raise ReadTimeoutError(endpoint_url=mantle.endpoint("us-west-2"))
        return json.loads(json.dumps(answer))

    @staticmethod
    def _invalid(operation: str, message: str, status: int = 400) -> None:
        mantle._answer(operation, status, json.dumps({"error": {"message": message}}).encode())

    def _list(self, items: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1 if after in ids else 0
        page = items[start : start + self.page_size]
        return {"object": "list", "data": page, "has_more": start + self.page_size < len(items)}

    # -- files ----------------------------------------------------------------------------------
    def create_file(self, *, filename: str, content: bytes, purpose: str = "fine-tune") -> dict[str, Any]:
        self._enter("create_file", {"filename": filename, "purpose": purpose})
        if purpose != "fine-tune":
            self._invalid("create_file", f"purpose {purpose!r} is not supported")
        file_id = f"file-{next(self._ids):06d}"
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": next(self._clock),
            "filename": filename,
            "purpose": purpose,
        }
        self.contents[file_id] = content
        return self._leave("create_file", self.files[file_id])

    def list_files(self, *, purpose: str | None = None, after: str | None = None) -> dict[str, Any]:
        self._enter("list_files", {"purpose": purpose, "after": after})
        newest_first = sorted(self.files.values(), key=lambda f: -f["created_at"])
        return self._leave(
            "list_files", self._list([f for f in newest_first if purpose in (None, f["purpose"])], after)
        )

    def delete_file(self, *, file_id: str) -> dict[str, Any]:
        self._enter("delete_file", {"file_id": file_id})
        if file_id not in self.files:
            self._invalid("delete_file", f"No such File object: {file_id}", 404)
        del self.files[file_id], self.contents[file_id]
        return self._leave("delete_file", {"id": file_id, "object": "file", "deleted": True})

    # -- jobs -----------------------------------------------------------------------------------
    def create_fine_tuning_job(self, **request: Any) -> dict[str, Any]:
        self._enter("create_fine_tuning_job", request)
        if request.get("model") not in MODELS:
            self._invalid("create_fine_tuning_job", f"model {request.get('model')!r} does not support fine-tuning")
        if request.get("training_file") not in self.files:
            self._invalid("create_fine_tuning_job", f"training_file {request.get('training_file')!r} not found")
        method = request.get("method") or {}
        grader = (method.get("reinforcement") or {}).get("grader") or {}
        if method.get("type") != "reinforcement" or grader.get("type") != "lambda":
            self._invalid("create_fine_tuning_job", "method must be reinforcement with a lambda grader")
        if not str((grader.get("lambda") or {}).get("function", "")).startswith("arn:aws:lambda:"):
            self._invalid("create_fine_tuning_job", "grader.lambda.function must be a Lambda function ARN")
        for key, value in ((method["reinforcement"].get("hyperparameters")) or {}).items():
            if not isinstance(value, (int, float)):
                self._invalid("create_fine_tuning_job", f"hyperparameters.{key} must be a number, got {value!r}")
        job_id = f"ftjob-{next(self._ids):06d}"
        self.jobs[job_id] = {
            "id": job_id,
            "object": "fine_tuning.job",
            "created_at": next(self._clock),
            "model": request["model"],
            "training_file": request["training_file"],
            "method": method,
            "status": "validating_files",
            "error": None,
            "fine_tuned_model": None,
            "finished_at": None,
        }
        return self._leave("create_fine_tuning_job", self.jobs[job_id])

    def get_fine_tuning_job(self, *, fine_tuning_job_id: str) -> dict[str, Any]:
        self._enter("get_fine_tuning_job", {"fine_tuning_job_id": fine_tuning_job_id})
        if fine_tuning_job_id not in self.jobs:
            self._invalid("get_fine_tuning_job", f"No such job: {fine_tuning_job_id}", 404)
        return self._leave("get_fine_tuning_job", self.jobs[fine_tuning_job_id])

    def list_fine_tuning_jobs(self, *, after: str | None = None) -> dict[str, Any]:
        self._enter("list_fine_tuning_jobs", {"after": after})
        newest_first = sorted(self.jobs.values(), key=lambda j: -j["created_at"])
        return self._leave("list_fine_tuning_jobs", self._list(newest_first, after))

    def cancel_fine_tuning_job(self, *, fine_tuning_job_id: str) -> dict[str, Any]:
        self._enter("cancel_fine_tuning_job", {"fine_tuning_job_id": fine_tuning_job_id})
        job = self.jobs.get(fine_tuning_job_id)
        if job is None:
            self._invalid("cancel_fine_tuning_job", f"No such job: {fine_tuning_job_id}", 404)
        assert job is not None
        if job["status"] not in LIVE:
            self._invalid("cancel_fine_tuning_job", f"job {fine_tuning_job_id} is {job['status']}")
        if self.cancel_takes_effect:
            job["status"] = "cancelled"
        return self._leave("cancel_fine_tuning_job", job)

    # -- the service's own progress -------------------------------------------------------------
    def advance(self, status: str = "running", *, error: str | None = None, code: str | None = None) -> None:
        """Every live job moves to ``status`` (``failed`` with ``error``; ``succeeded`` with a model)."""
        for job in self.jobs.values():
            if job["status"] not in LIVE:
                continue
            job["status"] = status
            if status == "failed":
                job["error"] = {"message": error or "failed", "code": code, "param": None}
            if status == "succeeded":
                job["fine_tuned_model"] = f"{job['model']}:ft:{job['id']}"
            if status in ("failed", "succeeded", "cancelled"):
                job["finished_at"] = next(self._clock)

    @property
    def created_jobs(self) -> list[dict[str, Any]]:
        return [params for operation, params in self.calls if operation == "create_fine_tuning_job"]


# -- chat completions over HTTP, for bench and gate ---------------------------------------------------
@dataclass
class ChatReply:
    """What the fake answers one chat completion: an HTTP error, or ``data:`` lines after their delays."""

    connect: float = 0.0  # seconds before the response headers
    lines: list[tuple[float, bytes]] = field(default_factory=list)
    status: int = 200
    message: str = ""


def _data(payload: dict[str, Any] | str) -> bytes:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()


def chat_stream(
    ttft: float,
    total: float,
    *,
    text: str = "Hello more more more",
    chunks: int = 4,
    input_tokens: int = 20,
    output_tokens: int = 12,
    finish: bool = True,
    usage: bool = True,
    done: bool = True,
) -> ChatReply:
    """A streamed answer as OpenAI's reference shapes it: a role chunk, ``text`` in ``chunks``
    content deltas (the first at ``ttft``), a chunk with ``finish_reason``, the usage chunk (empty
    ``choices``), ``data: [DONE]`` at ``total``. ``finish``, ``usage``, ``done`` False: the stream
    ends (cleanly) before that part, as a cut connection does."""
    size = -(-len(text) // chunks) or 1
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    gap = (total - ttft) / len(pieces)  # the last gap before the usage chunk: the end at ``total``
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "usage": None}
    lines = [(0.0, _data({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}))]
    for i, piece in enumerate(pieces):
        delta = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
        lines.append((ttft if i == 0 else gap, _data({**base, "choices": [delta]})))
    if finish:
        lines.append((0.0, _data({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})))
        if usage:
            counts = {"prompt_tokens": input_tokens, "completion_tokens": output_tokens}
            lines.append(
                (gap, _data({**base, "choices": [], "usage": {**counts, "total_tokens": sum(counts.values())}}))
            )
            if done:
                lines.append((0.0, _data(mantle.DONE)))
    return ChatReply(lines=lines)


def throttled(message: str = "Too many requests, please wait before trying again.") -> ChatReply:
    return ChatReply(connect=0.05, status=429, message=message)


class _Raw:
    """The HTTP body the client reads line by line: each line after its delay on the virtual clock."""

    def __init__(self, clock: Callable[[float], None], lines: list[tuple[float, bytes]]):
        self._advance, self._lines = clock, lines

    def __iter__(self) -> Iterator[bytes]:
        for delay, data in self._lines:
            self._advance(delay)
            yield from data.splitlines(keepends=True)


class FakeMantleHttp:
    """The HTTP layer of a real ``MantleClient`` (its ``http``), answering from ``FakeMantle``."""

    def __init__(
        self,
        fake: FakeMantle,
        respond: Callable[[dict[str, Any]], ChatReply],
        advance: Callable[[float], None],
        region: str,
    ):
        self.fake, self.respond, self.advance, self.region = fake, respond, advance, region
        self.chats: list[dict[str, Any]] = []
        self.signed: list[str] = []  # each request's Authorization header

    def send(self, request: Any) -> Any:
        auth = request.headers.get("Authorization", "")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        self.signed.append(auth)
        url = urlsplit(request.url)
        assert url.netloc == f"bedrock-mantle.{self.region}.api.aws", request.url
        # SigV4 with the endpoint's signing name and the Region (docs/open-weight-rft.md, gap 1).
        assert f"/{self.region}/{mantle.SIGNING_NAME}/aws4_request" in auth, auth
        path = url.path.removeprefix("/v1")
        try:
            if request.method == "GET" and path.startswith("/fine_tuning/jobs/"):
                job = self.fake.get_fine_tuning_job(fine_tuning_job_id=unquote(path.rsplit("/", 1)[1]))
                return SimpleNamespace(status_code=200, content=json.dumps(job).encode(), raw=None)
            if request.method == "POST" and path == "/chat/completions":
                return self._chat(json.loads(request.body))
        except ClientError as err:  # the fake's own errors are HTTP answers, as the service's are
            status = err.response["ResponseMetadata"]["HTTPStatusCode"]
            message = err.response["Error"]["Message"]
            return SimpleNamespace(
                status_code=status, content=json.dumps({"error": {"message": message}}).encode(), raw=None
            )
        raise AssertionError(f"no route {request.method} {path} in the fake")

    def _chat(self, body: dict[str, Any]) -> Any:
        self.fake._enter("create_chat_completion", body)
        served = {job["fine_tuned_model"] for job in self.fake.jobs.values() if job["status"] == "succeeded"}
        problems = [
            *([] if body.get("model") in served else [f"model {body.get('model')!r} not found"]),
            *([] if body.get("stream") is True else ["stream must be true here"]),
            *([] if body.get("stream_options") == {"include_usage": True} else ["stream_options.include_usage"]),
            *([] if isinstance(body.get("max_tokens"), int) else ["max_tokens must be an integer"]),
        ]
        messages = body.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or any(
                set(m) != {"role", "content"}
                or m["role"] not in ("system", "user", "assistant")
                or not isinstance(m["content"], str)
                for m in messages
            )
        ):
            problems.append("messages must be a non-empty list of {role, content}")
        if problems:
            status = 404 if problems[0].startswith("model") else 400
            return SimpleNamespace(
                status_code=status, content=json.dumps({"error": {"message": "; ".join(problems)}}).encode(), raw=None
            )
        with_body = {**body}
        self.chats.append(with_body)
        reply = self.respond(with_body)
        self.advance(reply.connect)
        if reply.status != 200:
            payload = json.dumps({"error": {"message": reply.message, "type": "rate_limit_error"}}).encode()
            return SimpleNamespace(status_code=reply.status, content=payload, raw=None)
        return SimpleNamespace(status_code=200, content=b"", raw=_Raw(self.advance, reply.lines))


def http(
    fake: FakeMantle,
    respond: Callable[[dict[str, Any]], ChatReply] | None = None,
    advance: Callable[[float], None] = lambda _: None,
    region: str = "us-west-2",
) -> FakeMantleHttp:
    """The fake's HTTP front: give it to ``MantleClient(http=...)``."""
    return FakeMantleHttp(fake, respond or (lambda _: chat_stream(0.2, 1.0)), advance, region)
