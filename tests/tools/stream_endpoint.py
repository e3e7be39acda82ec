"""A local Bedrock runtime endpoint over real HTTP, in a process of its own, for load tests of
``bench`` and the gate.

``bench_fake.FakeRuntime`` answers inside the client with a virtual clock: exact, but it cannot
show what the benchmark's own process costs when it drives many streams at once. This endpoint
does: an asyncio HTTP/1.1 server (``127.0.0.1``, a free port) that answers ``ConverseStream``
with AWS event-stream messages (``bench_fake.event``: prelude, headers, CRCs) in chunked
transfer encoding, each message sent at its scripted time after the request arrived (real
seconds: ``loop.call_at`` on absolute deadlines, so delays do not accumulate drift).

It answers ``InvokeModelWithResponseStream`` (an imported model) the same way, in the request
body's format (``OpenAIChatCompletion``, ``OpenAICompletion`` or ``BedrockCompletion``, told apart
by their fields): ``chunk`` events, one per piece of text, and a final chunk with the finish
reason, the usage and ``amazon-bedrock-invocationMetrics`` (``cut=1``: no final chunk).

The script travels in the prompt text, so a test's prompts are its script (or, per model, in
``StreamEndpoint(scripts=...)``, so a candidate and its baselines answer the same prompt differently)::

    "ttft=0.3 total=1.0 chunks=10 tokens=100 id=a17"   a stream: first text at 0.3 s, the end at 1.0 s
    "status=429 code=ThrottlingException id=x"         an HTTP error (no code: a proxy's bare page)
    "ttft=0.1 total=0.2 cut=1 id=y"                    a stream that ends without messageStop/metadata
    "answer=the_disk_was_full ttft=0.1 total=0.3"     the text answered (underscores are spaces)

The server keeps, per request, CLOCK_MONOTONIC times (the clock ``time.perf_counter`` reads on
Linux, shared by every process of the machine) of the request's arrival and of the first text and
last message it wrote. ``GET /log`` returns them, so a test can split a measured latency into the
server's part (its own lateness included) and the client's.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .bench_fake import event, format_chunks, invoke_format_of, prompt_of, stream_exception


def parse_script(prompt: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in prompt.split() if "=" in part)


def _reply_events(script: dict[str, str]) -> list[tuple[float, bytes, bool]]:
    """(seconds after arrival, message, carries text) for a streamed answer."""
    ttft, total = float(script.get("ttft", "0.1")), float(script.get("total", "0.5"))
    chunks = int(script.get("chunks", "4"))
    tokens = int(script.get("tokens", "50"))
    answer = script.get("answer", "").replace("_", " ")
    if answer:
        size = -(-len(answer) // chunks) or 1
        pieces = [answer[i : i + size] for i in range(0, len(answer), size)]
        pieces += [""] * (chunks - len(pieces))
    else:
        pieces = ["Hello"] + [" more"] * (chunks - 1)
    gap = (total - ttft) / chunks
    timeline: list[tuple[float, bytes, bool]] = [(0.0, event("messageStart", {"role": "assistant"}), False)]
    for index, piece in enumerate(pieces):
        delta = event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
        timeline.append((ttft + index * gap, delta, bool(piece)))
    end = ttft + (chunks - 1) * gap
    timeline.append((end, event("contentBlockStop", {"contentBlockIndex": 0}), False))
    if "fault" in script:  # an exception inside the stream, e.g. fault=throttlingException
        timeline.append((total, stream_exception(script["fault"], "scripted"), False))
        return timeline
    if script.get("cut") != "1":
        timeline.append((end, event("messageStop", {"stopReason": "end_turn"}), False))
        metadata = {
            "usage": {"inputTokens": 20, "outputTokens": tokens, "totalTokens": 20 + tokens},
            "metrics": {"latencyMs": int(total * 1000)},
            "performanceConfig": {"latency": "standard"},
        }
        timeline.append((total, event("metadata", metadata), False))
    return timeline


def _invoke_events(script: dict[str, str], fmt: str) -> list[tuple[float, bytes, bool]]:
    """(seconds after arrival, message, carries text) for an InvokeModelWithResponseStream answer in ``fmt``."""
    ttft, total = float(script.get("ttft", "0.1")), float(script.get("total", "0.5"))
    chunks, tokens = int(script.get("chunks", "4")), int(script.get("tokens", "50"))
    answer = script.get("answer", "").replace("_", " ")
    if answer:
        size = -(-len(answer) // chunks) or 1
        pieces = [answer[i : i + size] for i in range(0, len(answer), size)]
    else:
        pieces = ["Hello"] + [" more"] * (chunks - 1)
    body, last = format_chunks(
        fmt, pieces, input_tokens=20, output_tokens=tokens, latency_ms=int(total * 1000), final=script.get("cut") != "1"
    )
    gap = (total - ttft) / max(1, len(pieces) - 1) if len(pieces) > 1 else 0.0
    timeline = [(ttft + index * gap, message, True) for index, message in enumerate(body)]
    if "fault" in script:
        timeline.append((total, stream_exception(script["fault"], "scripted"), False))
    elif last is not None:
        timeline.append((total, last, False))
    return timeline


class _Server:
    def __init__(self, scripts: dict[str, dict[str, str]]) -> None:
        self.log: list[dict[str, Any]] = []
        self.scripts = scripts  # model id -> prompt (or "*") -> script, for models that answer differently

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = time.perf_counter()
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method == "GET" and path == "/log":
                    payload = json.dumps(self.log).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        + f"content-length: {len(payload)}\r\n\r\n".encode()
                        + payload
                    )
                    await writer.drain()
                    continue
                if method == "DELETE" and path == "/log":
                    self.log.clear()
                    writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                    await writer.drain()
                    continue
                request = json.loads(body)
                prompt = prompt_of(request)
                invoke = "/invoke-with-response-stream" in path
                operation = "/invoke-with-response-stream" if invoke else "/converse-stream"
                model = unquote(path.split("/model/", 1)[-1].split(operation, 1)[0])
                mine = self.scripts.get(model, {})
                script = parse_script(mine.get(prompt) or mine.get("*") or prompt)
                record: dict[str, Any] = {
                    "prompt": prompt,
                    "model": model,
                    "arrived": arrived,
                    "first_text": None,
                    "last": None,
                    "operation": "InvokeModelWithResponseStream" if invoke else "ConverseStream",
                    "format": invoke_format_of(request) if invoke else None,
                }
                self.log.append(record)
                if "status" in script:
                    await asyncio.sleep(float(script.get("connect", "0")))
                    status = int(script["status"])
                    if "code" in script:
                        payload = json.dumps({"message": "scripted"}).encode()
                        extra = f"x-amzn-ErrorType: {script['code']}:http://internal.amazon.com/\r\ncontent-type: application/json\r\n"
                    else:
                        payload = f"<html><body><h1>{status}</h1></body></html>".encode()
                        extra = "content-type: text/html\r\n"
                    writer.write(
                        f"HTTP/1.1 {status} Scripted\r\n{extra}content-length: {len(payload)}\r\n\r\n".encode()
                        + payload
                    )
                    record["last"] = time.perf_counter()
                    await writer.drain()
                    continue
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\n"
                    b"transfer-encoding: chunked\r\n\r\n"
                )
                timeline = _invoke_events(script, invoke_format_of(request)) if invoke else _reply_events(script)
                for offset, message, carries_text in timeline:
                    delay = arrived + offset - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    now = time.perf_counter()  # before the write: the client cannot read it earlier
                    writer.write(f"{len(message):x}\r\n".encode() + message + b"\r\n")
                    await writer.drain()
                    if carries_text and record["first_text"] is None:
                        record["first_text"] = now
                    record["last"] = now
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _serve(scripts: dict[str, dict[str, str]]) -> None:
    try:
        # Ahead of the machine's other work where allowed: the endpoint is the truth the tests measure against.
        os.nice(-10)
    except OSError:
        pass
    server = _Server(scripts)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=512)
    print(listener.sockets[0].getsockname()[1], flush=True)  # the port, for the parent
    async with listener:
        await listener.serve_forever()


class StreamEndpoint:
    """The endpoint in a child process: ``with StreamEndpoint() as endpoint: endpoint.url``."""

    def __init__(self, scripts: dict[str, dict[str, str]] | None = None) -> None:
        """``scripts``: per model id, per prompt (or ``"*"`` for any), the script that model answers
        with instead of the prompt's own, so the same prompts get different answers and timings from
        a candidate and its baselines."""
        self.url = ""
        self.scripts = scripts or {}
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> StreamEndpoint:
        root = Path(__file__).resolve().parents[2]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.tools.stream_endpoint"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(self.scripts) + "\n")
        self._process.stdin.flush()
        port = self._process.stdout.readline().strip()
        if not port.isdigit():
            self._process.kill()
            raise RuntimeError("the local stream endpoint did not start")
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *_: Any) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)

    def log(self) -> dict[str, dict[str, Any]]:
        """The server's record of each request, by prompt text (a test's prompts are unique)."""
        with urllib.request.urlopen(f"{self.url}/log", timeout=30) as response:
            return {record["prompt"]: record for record in json.loads(response.read())}

    def log_all(self) -> list[dict[str, Any]]:
        """The server's record of every request, in the order they arrived."""
        with urllib.request.urlopen(f"{self.url}/log", timeout=30) as response:
            return sorted(json.loads(response.read()), key=lambda record: record["arrived"])

    def clear(self) -> None:
        request = urllib.request.Request(f"{self.url}/log", method="DELETE")
        with urllib.request.urlopen(request, timeout=30):
            pass


def reference_run(url: str, prompts: list[str], concurrency: int) -> dict[str, tuple[float, float]]:
    """The machine's floor: the same prompts through a client that does almost nothing (asyncio,
    raw HTTP, one frame per chunk, no signing, no parsing beyond finding the first text), at the
    same concurrency. ``{prompt: (time to first text, end to end)}`` in seconds from the send."""
    host, port = url.removeprefix("http://").split(":")
    timings: dict[str, tuple[float, float]] = {}

    async def one(queue: asyncio.Queue[str]) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                prompt = queue.get_nowait()
                body = json.dumps({"messages": [{"role": "user", "content": [{"text": prompt}]}]}).encode()
                head = (
                    f"POST /model/reference/converse-stream HTTP/1.1\r\nhost: {host}\r\n"
                    f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
                )
                start = time.perf_counter()
                writer.write(head.encode() + body)
                await writer.drain()
                await reader.readuntil(b"\r\n\r\n")
                first = None
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    chunk = await reader.readexactly(size + 2)
                    if size == 0:
                        break
                    if first is None and b"contentBlockDelta" in chunk and b'"text": ""' not in chunk:
                        first = time.perf_counter() - start
                timings[prompt] = (first if first is not None else float("nan"), time.perf_counter() - start)
        finally:
            writer.close()

    async def main() -> None:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for prompt in prompts:
            queue.put_nowait(prompt)
        await asyncio.gather(*(one(queue) for _ in range(concurrency)))

    asyncio.run(main())
    return timings


class FloorClient:
    """``reference_run`` in a process of its own, started now and run on ``go()``, so it measures
    at the same moments as the client under test: the machine's own delays at that time.
    ``timings()`` waits for it and returns ``{prompt: (time to first text, end to end)}``."""

    def __init__(self, url: str, prompts: list[str], concurrency: int):
        root = Path(__file__).resolve().parents[2]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.tools.stream_endpoint", "floor", url, str(concurrency)],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(prompts) + "\n")
        self._process.stdin.flush()
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError("the floor client did not start")

    def go(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write("go\n")
        self._process.stdin.flush()

    def timings(self) -> dict[str, tuple[float, float]]:
        out, _ = self._process.communicate(timeout=120)
        return {k: (v[0], v[1]) for k, v in json.loads(out).items()}


def _floor(url: str, concurrency: int) -> None:
    prompts = json.loads(sys.stdin.readline())
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps(reference_run(url, prompts, concurrency)), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["floor"]:
        _floor(sys.argv[2], int(sys.argv[3]))
    else:
        asyncio.run(_serve(json.loads(sys.stdin.readline())))
