"""The request formats of imported models on ``InvokeModelWithResponseStream``, for ``bench`` and ``gate``.

Which architecture is sent in which format is the catalog's (``catalog.json`` ``modelImport``,
each architecture row's ``converse`` and ``invokeFormat``); this module only spells the formats.

Amazon Bedrock User Guide, "Invoke your imported model" (read 2026-12-07): since 2025-11-17 models
imported after 2025-11-11 accept three formats, told apart by their fields: ``BedrockCompletion``
(``prompt``, ``max_gen_len``, ``temperature``), ``OpenAICompletion`` (``prompt``, ``max_tokens``)
and ``OpenAIChatCompletion`` (``messages``, ``max_tokens``); Converse is not supported for Qwen2.5,
Qwen2-VL, Qwen2.5-VL and GPT-OSS. Each streamed chunk's ``bytes`` is one JSON object of the
format's response, read here as the OpenAI-compatible formats stream it (``choices[0].delta.content``,
``choices[0].text``, ending with a non-null ``finish_reason``) and as Bedrock's completion format
does (``generation``, ending with a non-null ``stop_reason``). Those chunk shapes are inferred, not
read on the page (the text available to us shows none); token counts are taken from ``usage``, the
completion format's counts or ``amazon-bedrock-invocationMetrics`` when a chunk carries them, and
are "unknown" otherwise, never required.

``stream_events`` turns such a stream into ConverseStream's events (``contentBlockDelta`` text,
``messageStop`` once the final chunk came, ``metadata`` with the counts at the end of a finished
answer), so ``bench`` and ``gate`` time and read both operations the same way.

``chat_completion_events`` does the same for an open-weight model fine-tuned on the
``bedrock-mantle`` endpoint, streamed with OpenAI's chat completions there
(``estate_runtime.mantle.MantleClient.create_chat_completion``, which holds the API's facts): the
same ``OpenAIChatCompletion`` body with ``model`` and ``stream_options.include_usage``, its chunks
read as above; an answer is finished only when a chunk gave its ``finish_reason`` and the stream
then ended with ``data: [DONE]``, so a stream cut before either has no ``messageStop`` or no
``metadata``, as a cut ConverseStream has neither.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

FORMATS = (
    "BedrockCompletion",
    "OpenAICompletion",
    "OpenAIChatCompletion",
)  # estate_runtime.catalog.IMPORT_INVOKE_FORMATS


@dataclass(frozen=True)
class Chunk:
    """What one streamed chunk says: its text, whether it ends the answer, the counts it carries."""

    text: str = ""
    final: bool = False
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int | None = None


def body(fmt: str, prompt: str, system: str | None, max_tokens: int, temperature: float | None) -> dict[str, Any]:
    """The request body of ``fmt`` for one prompt (and a system prompt, where the format has one)."""
    if fmt == "OpenAIChatCompletion":
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        request: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens}
    else:
        text = f"{system}\n\n{prompt}" if system else prompt  # a completion format has no system field
        request = {"prompt": text, ("max_gen_len" if fmt == "BedrockCompletion" else "max_tokens"): max_tokens}
    if temperature is not None:
        request["temperature"] = temperature
    return request


def read_chunk(fmt: str, data: dict[str, Any]) -> Chunk:
    """One chunk's JSON, as ``fmt`` streams it."""
    metrics = data.get("amazon-bedrock-invocationMetrics") or {}
    usage = data.get("usage") or {}
    if fmt == "BedrockCompletion":
        text = data.get("generation") or ""
        final = data.get("stop_reason") is not None
        inputs, outputs = data.get("prompt_token_count"), data.get("generation_token_count")
    else:
        choices = data.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        if fmt == "OpenAIChatCompletion":
            text = (choice.get("delta") or {}).get("content") or (choice.get("message") or {}).get("content") or ""
        else:
            text = choice.get("text") or ""
        final = choice.get("finish_reason") is not None
        inputs, outputs = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return Chunk(
        text=text if isinstance(text, str) else "",
        final=final,
        input_tokens=_int(metrics.get("inputTokenCount", inputs)),
        output_tokens=_int(metrics.get("outputTokenCount", outputs)),
        latency_ms=_int(metrics.get("invocationLatency")),
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def invoke_request(fmt: str, converse_request: dict[str, Any]) -> dict[str, Any]:
    """The ``InvokeModelWithResponseStream`` parameters for what ``converse_request`` (a
    ConverseStream request of one user message) asks: the same model, prompt, system prompt, token
    limit, temperature, latency mode and service tier."""
    message = converse_request["messages"][0]["content"][0]["text"]
    system = converse_request.get("system", [{}])[0].get("text")
    config = converse_request.get("inferenceConfig", {})
    params: dict[str, Any] = {
        "modelId": converse_request["modelId"],
        "contentType": "application/json",
        "accept": "application/json",
        "body": json.dumps(body(fmt, message, system, config["maxTokens"], config.get("temperature"))),
    }
    if "performanceConfig" in converse_request:
        params["performanceConfigLatency"] = converse_request["performanceConfig"]["latency"]
    if "serviceTier" in converse_request:
        params["serviceTier"] = converse_request["serviceTier"]["type"]
    return params


def stream_events(client: Any, fmt: str, converse_request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``InvokeModelWithResponseStream`` in ``fmt``, called now (so its send is timed as
    ConverseStream's is), its answer as ConverseStream's events: each chunk's text
    as a ``contentBlockDelta``; ``messageStop`` when the final chunk came; at the end of the stream,
    after a final chunk only, ``metadata`` with the counts any chunk carried (so a stream cut short
    has neither, as a cut ConverseStream has neither). An exception in the stream raises, as
    botocore raises it for ConverseStream."""
    response = client.invoke_model_with_response_stream(**invoke_request(fmt, converse_request))
    return _events(fmt, response)


def chat_completion_events(client: Any, converse_request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Chat completions on the ``bedrock-mantle`` endpoint (``client``: a ``MantleClient``), called
    now, its answer as ConverseStream's events (see the module docstring)."""
    from estate_runtime.mantle import DONE

    params = json.loads(invoke_request("OpenAIChatCompletion", converse_request)["body"])
    chunks = client.create_chat_completion(
        model=converse_request["modelId"], **params, stream_options={"include_usage": True}
    )

    def decoded() -> Iterator[dict[str, Any] | None]:
        done = False
        for chunk in chunks:
            done = chunk == DONE
            if not done:
                yield chunk
        if not done:
            yield None  # the stream ended without [DONE]: whatever came, the answer is not complete

    return _chunk_events("OpenAIChatCompletion", decoded(), served=None)


def _events(fmt: str, response: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def decoded() -> Iterator[dict[str, Any]]:
        for event in response["body"]:
            raw = event.get("chunk", {}).get("bytes")
            if raw is None:
                continue
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                continue  # not a JSON object of the format: no text, no end
            yield data if isinstance(data, dict) else {}

    return _chunk_events(fmt, decoded(), served=response.get("performanceConfigLatency"))


def _chunk_events(fmt: str, chunks: Iterator[dict[str, Any] | None], served: str | None) -> Iterator[dict[str, Any]]:
    """Decoded chunks of ``fmt`` as ConverseStream's events; a ``None`` chunk says the stream ended
    short of its last marker, so no ``metadata`` ends it."""
    finished = cut = False
    inputs = outputs = latency = None
    for data in chunks:
        if data is None:
            cut = True
            continue
        chunk = read_chunk(fmt, data)
        inputs = chunk.input_tokens if chunk.input_tokens is not None else inputs
        outputs = chunk.output_tokens if chunk.output_tokens is not None else outputs
        latency = chunk.latency_ms if chunk.latency_ms is not None else latency
        if chunk.text:
            yield {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": chunk.text}}}
        if chunk.final and not finished:
            finished = True
            yield {"messageStop": {"stopReason": "end_turn"}}
    if finished and not cut:
        metadata: dict[str, Any] = {"usage": {}, "metrics": {}}
        if inputs is not None:
            metadata["usage"]["inputTokens"] = inputs
        if outputs is not None:
            metadata["usage"]["outputTokens"] = outputs
        if latency is not None:
            metadata["metrics"]["latencyMs"] = latency
        if served:
            metadata["performanceConfig"] = {"latency": served}
        yield {"metadata": metadata}
