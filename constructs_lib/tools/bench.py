"""``bedrock-estate bench``: latency and throughput of served models, base models and inference profiles.

Each request is a streaming ``ConverseStream`` call. Per request it records:

- time to first token (TTFT): from just before the call to the first ``contentBlockDelta`` that
  carries text;
- end-to-end latency: from just before the call to the end of the stream;
- input and output tokens (the stream's ``metadata.usage``), and output tokens per second =
  output tokens / end-to-end seconds (the definition LLMPerf uses per request);
- the latency mode and service tier actually served, from the stream's ``metadata`` event
  (botocore 1.44.5 ``ConverseStreamMetadataEvent``: ``performanceConfig.latency`` standard |
  optimized, ``serviceTier.type``): Bedrock falls back to standard latency when the optimized
  quota is exhausted, and says so there;
- throttles and other errors, counted per target; a failed request never stops the run. A
  throttle is what botocore's own retry logic calls one (``failure_status``): a code it lists
  (``ThrottlingException``, ``TooManyRequestsException``, ...), an error the service model marks
  as throttling, or a 429 whose code the operation does not model (a gateway's or proxy's bare
  429); an exception inside the stream is classified by the error shape the stream declares for
  it (``throttlingException`` is ``ThrottlingException``). The client makes one attempt per
  request (no SDK retries), so a throttle is counted, not hidden in a slower request;
- incomplete answers: a stream that ends without error but before ``messageStop`` and the
  ``metadata`` event (a proxy cutting the connection cleanly, say) is counted as incomplete, not
  as a success, and its short timings stay out of the percentiles.

Targets: ``NAME_OR_ID[,latency=standard|optimized][,tier=priority|default|flex|reserved][,format=...]``.
A name of a serving entry of ``--stage`` resolves to its model ARN through the stage's serving stack
outputs (``<estate>-<stage>-serving``, output ``<Entry>ModelArn``), a name of an import through its
customization stack's; an ARN, a base model id or an inference profile id is used as given
(``format=``: an imported model's ARN, streamed with InvokeModelWithResponseStream in that format).

Requests run ``--repeats`` times over every (target, prompt) pair, in an order shuffled with
``--seed``, ``--concurrency`` at a time. Percentiles interpolate linearly between the closest
ranks (numpy's default ``linear`` method).

No CDK import here: the command starts fast.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from estate_runtime import mantle
from estate_runtime.naming import StageNames

from ..spec.gates import GateFileError, Prompt, parse_prompts
from . import extras, invoke_formats
from .deployed import StackUnreadable, stack_outputs

LATENCIES = ("standard", "optimized")
MANTLE = mantle.SERVICE  # a target streamed from the OpenAI-compatible endpoint (open-weight fine-tuned models)
TIERS = ("priority", "default", "flex", "reserved")  # botocore 1.44.5 ServiceTierType
CSV_FIELDS = (
    "index",
    "target",
    "model_id",
    "prompt_id",
    "task",
    "repeat",
    "status",
    "error_code",
    "ttft_s",
    "e2e_s",
    "input_tokens",
    "output_tokens",
    "output_tokens_per_s",
    "requested_latency",
    "served_latency",
    "requested_tier",
    "served_tier",
    "server_latency_ms",
)


class BenchError(Exception):
    """A problem the user can act on; the CLI prints it without a traceback."""


@dataclass(frozen=True)
class Target:
    label: str  # as the user wrote it
    model_id: str  # what ConverseStream is called with
    latency: str | None = None
    tier: str | None = None
    base_model: str | None = None  # for prices, when known
    hourly: float | None = None  # provisioned throughput: USD per hour for the entry, when the spec prices it
    hourly_source: str | None = None
    entry: str | None = None  # the serving entry it serves (a candidate or the model before it), for prices
    invoke_format: str | None = None  # streamed with InvokeModelWithResponseStream in this format, not ConverseStream
    note: str | None = None  # why it is streamed the way it is, when that is not ConverseStream as usual
    endpoint: str | None = None  # MANTLE: an open-weight model, streamed with chat completions there

    @property
    def operation(self) -> str:
        """The streaming operation its requests are sent with."""
        if self.endpoint == MANTLE:
            return "ChatCompletions"
        return "ConverseStream" if self.invoke_format is None else "InvokeModelWithResponseStream"


def token_price(target: Target, prices: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The token prices of ``target`` and the key they were found under: its label, its serving
    entry, its model id, then its base model; None when the prices name none of them."""
    for key in (target.label, target.entry, target.model_id, target.base_model):
        if key and key in prices:
            return key, prices[key]
    return None


@dataclass
class Result:
    index: int
    target: str
    model_id: str
    prompt_id: str
    task: str
    repeat: int
    status: str = "ok"  # ok | throttled | error | incomplete
    error_code: str | None = None
    ttft_s: float | None = None
    e2e_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    output_tokens_per_s: float | None = None
    requested_latency: str | None = None
    served_latency: str | None = None
    requested_tier: str | None = None
    served_tier: str | None = None
    server_latency_ms: int | None = None


# --- targets and prompts -----------------------------------------------------------------------


def parse_target(text: str) -> tuple[str, str | None, str | None, str | None]:
    """``NAME_OR_ID[,latency=...][,tier=...][,format=...|,endpoint=bedrock-mantle]`` -> (name or id,
    latency, tier, format); ``endpoint=bedrock-mantle`` gives the format ``MANTLE``."""
    name, *options = [part.strip() for part in text.split(",")]
    if not name:
        raise BenchError(f"target {text!r}: give a serving entry, a model id, an inference profile id or an ARN")
    latency = tier = fmt = None
    for option in options:
        key, _, value = option.partition("=")
        if key == "latency" and value in LATENCIES:
            latency = value
        elif key == "tier" and value in TIERS:
            tier = value
        elif key == "format" and value in invoke_formats.FORMATS:
            fmt = value
        elif key == "endpoint" and value == MANTLE:
            fmt = MANTLE
        else:
            raise BenchError(
                f"target {text!r}: unknown option {option!r} (latency={'|'.join(LATENCIES)}, tier={'|'.join(TIERS)}, "
                f"format={'|'.join(invoke_formats.FORMATS)} for an imported model's InvokeModelWithResponseStream, "
                f"endpoint={MANTLE} for a fine-tuned open-weight model's id)"
            )
    if fmt == MANTLE and (latency or tier):
        raise BenchError(
            f"target {text!r}: latency= and tier= are ConverseStream's; the {MANTLE} endpoint's chat completions "
            "are sent without them"
        )
    return name, latency, tier, fmt


_STACK_SIDES = {"serving": "serving side", "customization": "customization stack (its imports)"}


def stage_outputs(session: Any, estate: str, stage: str, side: str = "serving") -> dict[str, str]:
    """The outputs ``{OutputKey: OutputValue}`` of a stage's serving stack, or of its customization
    stack (the stage's imported models)."""
    stack = StageNames(estate, stage).stack(side)
    try:
        return stack_outputs(session, stack)
    except StackUnreadable as error:
        raise BenchError(
            f"cannot read stack {stack}: {error}. Is stage {stage}'s {_STACK_SIDES[side]} deployed, and are these "
            "its account's credentials?"
        ) from None


def imported_target(
    text: str, name: str, stage: str, outputs: dict[str, str], latency: str | None, tier: str | None
) -> Target:
    """An import of ``stage``, by its customization stack's outputs: its ARN, and its architecture's
    catalog row (``catalog.json`` ``modelImport``), which says whether Converse serves it and, where
    not or not known, the format InvokeModelWithResponseStream is sent in."""
    from estate_runtime.catalog import load_model_import

    stack = StageNames("", stage).stack("customization").removeprefix("-")
    arn_key, class_key = StageNames.imported_model_arn_output(name), StageNames.imported_architecture_output(name)
    arn, found = outputs.get(arn_key), outputs.get(class_key)
    if arn is None or found is None:
        missing = " and ".join(k for k, v in ((arn_key, arn), (class_key, found)) if v is None)
        raise BenchError(
            f"target {name}: the customization stack of stage {stage} has no output {missing} (deployed before "
            f"imports were served, or before stages.{stage}.imports.{name} was added): deploy stage {stage} again"
        )
    catalog = load_model_import()
    architecture = catalog.architecture([found])
    if architecture is None:
        raise BenchError(
            f"target {name}: architecture {found} ({stack} output {class_key}) is not in this bedrock-estate's "
            "catalog of importable architectures; upgrade bedrock-estate, or give the model's ARN with "
            f"format={'|'.join(invoke_formats.FORMATS)}"
        )
    if architecture.streaming_operation == "ConverseStream":
        return Target(text, arn, latency, tier, entry=name)
    if architecture.converse is None:
        why = (
            f"the catalog does not know whether Converse serves {architecture.name} ({architecture.note or 'unknown'}); "
            "InvokeModelWithResponseStream, which every imported model answers"
        )
    else:
        why = f"the user guide says Converse does not serve {architecture.name} ({architecture.source})"
    return Target(text, arn, latency, tier, entry=name, invoke_format=architecture.invoke_format, note=why)


def open_weight_target(
    text: str, name: str, stage: str, outputs: dict[str, str], client: Any, base_model: str | None = None
) -> Target:
    """An open-weight job of ``stage`` (``openWeightFineTuning.<name>``), by the job id its
    customization stack's output holds and the job's ``fine_tuned_model`` (``GET
    /v1/fine_tuning/jobs/{id}`` on the ``bedrock-mantle`` endpoint, ``client``): the job resource
    completes while training is still queued or running, so the model id is known only once it has
    succeeded, and is read now."""
    from estate_runtime.kinds.open_weight_rft.contract import LIVE_STATES

    key = StageNames.open_weight_job_id_output(name)
    job_id = outputs.get(key)
    path = f"openWeightFineTuning.{name}"
    if not job_id:
        raise BenchError(
            f"target {name}: the customization stack of stage {stage} has no output {key} (deployed before open-weight "
            f"jobs were measured, or before stages.{stage}.{path} was added): deploy stage {stage} again"
        )
    job = client.get_fine_tuning_job(fine_tuning_job_id=job_id)
    status = job.get("status") or "unknown"
    model = job.get("fine_tuned_model")
    if status == "succeeded" and model:
        return Target(
            text,
            model,
            base_model=base_model,
            entry=name,
            endpoint=MANTLE,
            note=f"fine-tuned by job {job_id} of {path}, served on demand on the {MANTLE} endpoint",
        )
    if status in LIVE_STATES:
        raise BenchError(f"job {job_id} of {path} is {status}; bench can measure it once it has succeeded")
    if status == "failed":
        error = job.get("error") or {}
        reason = (error.get("message") or "no reason given") + (f" ({error['code']})" if error.get("code") else "")
        raise BenchError(
            f"job {job_id} of {path} failed: {reason}; it trained no model to measure (change the job or its data and "
            f"deploy stage {stage} again to train a new one)"
        )
    raise BenchError(
        f"job {job_id} of {path} is {status} and names no fine-tuned model; there is nothing to measure (change the "
        f"job or its data and deploy stage {stage} again to train a new one)"
    )


def mantle_client(session: Any, concurrency: int = 1) -> Any:
    """The stage Region's ``bedrock-mantle`` client, signing with ``session``'s credentials (the same
    signing code as the estate's handlers, ``estate_runtime.mantle``); each request noted as sent
    when it is handed to its connection, as a runtime client's is (``_mark_sent``)."""
    from botocore.exceptions import NoCredentialsError

    credentials = session.get_credentials()
    if credentials is None:
        raise NoCredentialsError()
    return mantle.MantleClient(
        session.region_name,
        connect_timeout=10,
        read_timeout=300,
        credentials=credentials,
        before_send=_mark_sent,
        max_pool_connections=max(10, concurrency),
    )


def output_key(entry: str) -> str:
    """The serving stack's output holding a served entry's ARN (the name the stack gives it)."""
    return StageNames.model_arn_output(entry)


def resolve_targets(
    texts: Iterable[str], spec: Any = None, stage: str | None = None, session: Any = None, mantle: Any = None
) -> list[Target]:
    """Serving entries of ``stage`` by name (their ARN from the serving stack), imports and open-weight
    jobs by name (their customization stack's outputs; a job's model from ``mantle``, a
    ``bedrock-mantle`` client, made from ``session`` when not given), anything else as given."""
    from ..spec.open_weight import OPEN_WEIGHT

    targets: list[Target] = []
    outputs: dict[str, str] | None = None
    imported: dict[str, str] | None = None
    serving = spec.stages[stage].serving if spec is not None and stage is not None else {}
    imports = spec.stages[stage].imports if spec is not None and stage is not None else {}
    open_weight = OPEN_WEIGHT.entries(spec.stages[stage]) if spec is not None and stage is not None else {}
    for text in texts:
        name, latency, tier, fmt = parse_target(text)
        if fmt is not None and (name in serving or name in imports or name in open_weight):
            option = (
                "endpoint= is for a model given by its id"
                if fmt == MANTLE
                else "format= is for a model given by its ARN"
            )
            raise BenchError(
                f"target {text!r}: {option}; stage {stage}'s entries are streamed as the spec says they are served"
            )
        if name in imports and name not in serving and stage is not None:
            if imported is None:
                imported = stage_outputs(session, spec.name, stage, "customization")
            targets.append(imported_target(text, name, stage, imported, latency, tier))
        elif name in open_weight and name not in serving and stage is not None:
            if latency or tier:
                raise BenchError(
                    f"target {text!r}: latency= and tier= are ConverseStream's; open-weight job {name} is streamed "
                    f"with chat completions on the {MANTLE} endpoint, without them"
                )
            if imported is None:
                imported = stage_outputs(session, spec.name, stage, "customization")
            mantle = mantle or mantle_client(session)
            targets.append(
                open_weight_target(text, name, stage, imported, mantle, base_model=open_weight[name].base_model)
            )
        elif name in serving and stage is not None:
            if outputs is None:
                outputs = stage_outputs(session, spec.name, stage)
            arn = outputs.get(output_key(name))
            if arn is None:
                raise BenchError(
                    f"target {name}: the serving stack of stage {stage} has no output {output_key(name)} (deployed before this entry was added?)"
                )
            entry = serving[name]
            base = spec.served_base_model(stage, entry)
            hourly = source = None
            if entry.provisioned is not None:
                cost = spec.serving_cost(stage, entry)
                hourly, source = cost.hourly, cost.source
            targets.append(Target(text, arn, latency, tier, base, hourly, source, entry=name))
        elif fmt == MANTLE:
            given = f"endpoint={MANTLE} given: chat completions on that endpoint"
            targets.append(Target(text, name, endpoint=MANTLE, note=given))
        elif name.startswith("arn:") or "." in name:
            base = None if name.startswith("arn:") else name
            note = None if fmt is None else f"format={fmt} given"
            targets.append(Target(text, name, latency, tier, base, invoke_format=fmt, note=note))
        else:
            known = (
                f" (serving entries of {stage}: {', '.join(serving) or 'none'}; imports: {', '.join(imports) or 'none'}; "
                f"open-weight jobs: {', '.join(open_weight) or 'none'})"
                if stage
                else " (give --stage to name a serving entry or import)"
            )
            raise BenchError(
                f"target {name!r} is neither a serving entry, an import, an open-weight job, a model or inference "
                f"profile id, nor an ARN{known}"
            )
    return targets


def shipped_prompts() -> list[Prompt]:
    text = (resources.files(__package__) / "bench_prompts.jsonl").read_text(encoding="utf-8")
    return parse_prompts(text, "bench_prompts.jsonl (shipped)")


def load_prices(path: str | None) -> dict[str, dict[str, Any]]:
    """``{"<target or model id>": {"inputPerMillion": USD, "outputPerMillion": USD, "source"?: str}}``."""
    if path is None:
        return {}
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(f"{path}: file not found") from None
    except (OSError, json.JSONDecodeError) as error:
        raise BenchError(f"{path}: cannot read prices: {error}") from None
    problems = [
        key
        for key, value in (raw.items() if isinstance(raw, dict) else [])
        if not (
            isinstance(value, dict)
            and all(isinstance(value.get(k), (int, float)) for k in ("inputPerMillion", "outputPerMillion"))
        )
    ]
    if not isinstance(raw, dict) or problems:
        expected = '{"<model id or target>": {"inputPerMillion": USD, "outputPerMillion": USD}}'
        raise BenchError(f"{path}: expected {expected}" + (f"; check {', '.join(problems)}" if problems else ""))
    return raw


# --- running -----------------------------------------------------------------------------------


def plan_requests(
    targets: list[Target], prompts: list[Prompt], repeats: int, seed: int
) -> list[tuple[Target, Prompt, int]]:
    """Every (target, prompt) pair ``repeats`` times, shuffled with ``seed`` (so no target always runs first or last)."""
    work = [(t, p, r) for r in range(1, repeats + 1) for t in targets for p in prompts]
    random.Random(seed).shuffle(work)
    return work


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__


def failure_status(error: Exception, operation_model: Any | None) -> tuple[str, str]:
    """``("throttled" | "error", error code)`` for a failed call, decided by botocore's own
    throttling detector (``botocore.retries.standard.ThrottlingErrorDetector``, the one its standard
    and adaptive retry modes use; botocore 1.44.5): the codes it lists as throttling
    (``ThrottlingException``, ``TooManyRequestsException``, ``SlowDown``, ...), an error the
    operation models as retryable throttling, and a 429 whose code the operation does not model (a
    proxy's or gateway's bare 429). ``ModelNotReadyException`` is modeled as a 429 that is *not*
    throttling, so it stays an error. An exception inside an event stream arrives with the stream's
    member name as its code (``throttlingException``) and no HTTP status of its own; it is judged
    as the error shape the stream declares for that member."""
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ClientError, EventStreamError
    from botocore.retries.standard import RetryContext, ThrottlingErrorDetector

    code = _error_code(error)
    if not isinstance(error, ClientError):
        return "error", code
    parsed: dict[str, Any] = dict(error.response)
    status = parsed.get("ResponseMetadata", {}).get("HTTPStatusCode")
    shape = _stream_exception_shape(operation_model, code) if isinstance(error, EventStreamError) else None
    if shape is not None:
        declared = shape.metadata.get("error", {})
        parsed = {**parsed, "Error": {**parsed.get("Error", {}), "Code": declared.get("code") or shape.name}}
        status = declared.get("httpStatusCode", status)
    context = RetryContext(
        attempt_number=1,
        operation_model=operation_model,
        parsed_response=parsed,
        http_response=None if status is None else AWSResponse("", int(status), {}, None),
    )
    throttled = ThrottlingErrorDetector(retry_event_adapter=None).is_throttling_error_from_context(context)
    return ("throttled" if throttled else "error"), code


def _stream_exception_shape(operation_model: Any | None, member: str) -> Any | None:
    """The error shape an operation's event stream declares for the exception member ``member``."""
    output = getattr(operation_model, "output_shape", None)
    for field_shape in getattr(output, "members", {}).values():
        if field_shape.serialization.get("eventstream") or field_shape.metadata.get("eventstream"):
            shape = field_shape.members.get(member)
            if shape is not None and shape.metadata.get("exception"):
                return shape
    return None


def converse_stream_model(client: Any, operation: str = "ConverseStream") -> Any | None:
    """The client's operation model of ``operation`` (ConverseStream unless said), for ``failure_status``."""
    meta = getattr(client, "meta", None)
    return meta.service_model.operation_model(operation) if meta is not None else None


def stream_end_problem(stopped: bool, metadata: bool, target: Target | None = None) -> str | None:
    """Why a stream that ended without an error is not a complete answer, or ``None``: Bedrock's
    ConverseStream ends every answer with ``messageStop`` and then ``metadata`` (usage, metrics); an
    imported model's InvokeModelWithResponseStream ends it with a chunk that gives its finish reason
    (``invoke_formats.stream_events`` makes that chunk ``messageStop`` and ``metadata``)."""
    if target is not None and target.endpoint == MANTLE:
        if stopped and metadata:
            return None
        return "stream ended without " + ("data: [DONE]" if stopped else "a chunk with its finish_reason")
    if target is not None and target.invoke_format is not None:
        marker = "stop_reason" if target.invoke_format == "BedrockCompletion" else "finish_reason"
        return None if stopped and metadata else f"stream ended without its final chunk ({marker})"
    missing = [name for name, seen in (("messageStop", stopped), ("metadata", metadata)) if not seen]
    return f"stream ended without {' and '.join(missing)}" if missing else None


def stream_events(client: Any, target: Target, request: dict[str, Any]) -> Any:
    """The events of one streamed answer to ``request`` (a ConverseStream request), in
    ConverseStream's vocabulary whichever operation ``target`` is streamed with (``client``: the
    client of the target's endpoint, ``client_for``)."""
    if target.endpoint == MANTLE:
        return invoke_formats.chat_completion_events(client, request)
    if target.invoke_format is None:
        return client.converse_stream(**request)["stream"]
    return invoke_formats.stream_events(client, target.invoke_format, request)


def client_for(target: Target, runtime: Any, mantle: Any) -> Any:
    """The client ``target`` is streamed from: ``mantle`` for an open-weight model, else ``runtime``."""
    if target.endpoint != MANTLE:
        return runtime
    if mantle is None:
        raise BenchError(f"target {target.label}: no {MANTLE} client to stream it from")
    return mantle


_sending = threading.local()  # per thread: the clock of the request being measured, and when it was sent


def _mark_sent(**_: Any) -> None:
    clock = getattr(_sending, "clock", None)
    if clock is not None:
        _sending.sent = clock()


def _watch_sending(client: Any) -> None:
    """Have ``client`` note when each ConverseStream request is handed to its HTTP connection
    (botocore's ``before-send`` event, after serialization and signing), before any other handler."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is not None:
        for operation in ("ConverseStream", "InvokeModelWithResponseStream"):
            events.register_first(
                f"before-send.bedrock-runtime.{operation}", _mark_sent, unique_id=f"bench-request-sent-{operation}"
            )


def measure(
    client: Any,
    target: Target,
    prompt: Prompt,
    clock: Callable[[], float],
    result: Result,
    sent: Callable[[float], None] | None = None,
) -> Result:
    """One streaming request, timed with ``clock``; never raises. ``sent`` is told the CPU seconds
    this thread spent building, signing and sending the request, up to the answer's headers."""
    request: dict[str, Any] = {
        "modelId": target.model_id,
        "messages": [{"role": "user", "content": [{"text": prompt.prompt}]}],
        "inferenceConfig": {"maxTokens": prompt.max_tokens},
    }
    if target.latency:
        request["performanceConfig"] = {"latency": target.latency}
    if target.tier:
        request["serviceTier"] = {"type": target.tier}
    stopped = described = False
    _watch_sending(client)
    _sending.clock, _sending.sent = clock, None
    start, cpu = clock(), time.thread_time()
    try:
        events = stream_events(client, target, request)  # the call is made; the events are read below
        if sent is not None:
            sent(time.thread_time() - cpu)
        # From the moment the signed request went to the connection: building and signing it is
        # this process's work, not the model's, and under load it would queue behind other threads.
        start = _sending.sent if _sending.sent is not None else start
        for event in events:
            if (
                "contentBlockDelta" in event
                and result.ttft_s is None
                and event["contentBlockDelta"].get("delta", {}).get("text")
            ):
                result.ttft_s = _elapsed(clock, start)
            elif "messageStop" in event:
                stopped = True
            elif "metadata" in event:
                described = True
                metadata = event["metadata"]
                usage = metadata.get("usage", {})
                result.input_tokens = usage.get("inputTokens")
                result.output_tokens = usage.get("outputTokens")
                result.server_latency_ms = metadata.get("metrics", {}).get("latencyMs")
                result.served_latency = metadata.get("performanceConfig", {}).get("latency")
                result.served_tier = metadata.get("serviceTier", {}).get("type")
        result.e2e_s = _elapsed(clock, start)
    except Exception as error:  # a benchmark counts failures, it does not stop on them
        result.status, result.error_code = failure_status(error, converse_stream_model(client, target.operation))
        result.ttft_s = None
        return result
    problem = stream_end_problem(stopped, described, target)
    if problem is not None:
        # Its timings stay in the raw results, for what they are, and out of every percentile.
        result.status, result.error_code = "incomplete", problem
        return result
    if result.output_tokens is not None and result.e2e_s:
        result.output_tokens_per_s = result.output_tokens / result.e2e_s
    return result


# No two requests are sent closer together than this, nor closer than twice what sending one has
# cost this process so far (``StartPacer``). Building, signing and sending a ConverseStream request
# takes this process about 2.5 ms of CPU on a 2-core machine (1 ms of it after the send), under one
# interpreter lock: 64 requests started in the same instant, or a whole wave started as the previous
# wave's streams end, queue behind each other and behind the streams still being read, adding tens of
# milliseconds to the timings measured meanwhile (tests/tools/test_load.py, against the local stream
# endpoint). The first wave of 64 requests ramps up in at least 0.126 s.
RAMP_STEP_S = 0.002


class StartPacer:
    """Spaces the sends of every request of a real-time run, the first wave's and each later one's:
    at least ``step`` seconds apart, and at least twice the median CPU a send has cost (``record``),
    so sending never takes more than about half of this process's interpreter at a time. Waiting
    here is not timed: a request's clock starts when it is handed to its connection."""

    def __init__(self, step: float = RAMP_STEP_S, enabled: bool = True):
        self.step, self.enabled = step, enabled
        self._lock = threading.Lock()
        self._next = 0.0
        self._costs: list[float] = []
        self.spacings: list[float] = []  # what each send was spaced by, for the run's record

    def record(self, cpu_seconds: float) -> None:
        with self._lock:
            self._costs.append(cpu_seconds)
            del self._costs[:-64]  # the recent sends: the machine's speed now, not at the start

    def spacing(self) -> float:
        with self._lock:
            costs = sorted(self._costs)
        return max(self.step, 2 * costs[len(costs) // 2]) if costs else self.step

    def median_spacing_ms(self) -> float | None:
        value = percentile(self.spacings, 50)
        return None if value is None else round(value * 1000, 3)

    def wait(self) -> float | None:
        """Sleeps until this send's slot and returns the slot (``time.perf_counter``), or ``None``
        when not pacing."""
        if not self.enabled:
            return None
        spacing = self.spacing()
        with self._lock:
            self.spacings.append(spacing)
            now = time.perf_counter()
            slot = max(now, self._next)
            self._next = slot + spacing
        time.sleep(max(0.0, slot - time.perf_counter()))
        return slot


def run(
    client: Any,
    targets: list[Target],
    prompts: list[Prompt],
    *,
    repeats: int = 1,
    concurrency: int = 1,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
    progress: bool = True,
    pacer: StartPacer | None = None,
    mantle: Any = None,
) -> list[Result]:
    """Every planned request, ``concurrency`` at a time, with a progress bar on stderr; a
    real-time run's sends spaced by ``pacer`` (a new one by default); open-weight targets streamed
    from ``mantle``."""
    work = plan_requests(targets, prompts, repeats, seed)
    results: list[Result | None] = [None] * len(work)
    lock = threading.Lock()
    with extras.progress(
        total=len(work), file=sys.stderr, disable=not progress, unit="req", desc="bench", dynamic_ncols=True
    ) as bar:
        pacer = pacer or StartPacer(enabled=clock is time.perf_counter)

        def one(index: int) -> None:
            pacer.wait()
            target, prompt, repeat = work[index]
            result = Result(
                index,
                target.label,
                target.model_id,
                prompt.id,
                prompt.task,
                repeat,
                requested_latency=target.latency,
                requested_tier=target.tier,
            )
            results[index] = measure(client_for(target, client, mantle), target, prompt, clock, result, pacer.record)
            with lock:
                bar.update(1)
                failed = sum(1 for r in results if r is not None and r.status != "ok")
                bar.set_postfix(failed=failed, refresh=False)

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            list(pool.map(one, range(len(work))))
    return [r for r in results if r is not None]


def warm_connections(client: Any, count: int) -> int:
    """Opens up to ``count`` connections (TCP and TLS) to the client's endpoint and leaves them in
    its pool, before the run's clock starts; returns how many it opened. Without this the first
    ``--concurrency`` requests each open one while being timed, all at once: on a 2-core machine 64
    of them added 7 to 20 ms to the first wave's times (tests/tools/test_load.py), and against
    Bedrock each pays a TLS handshake a client that stays connected does not. Requests through a
    proxy, or a client whose HTTP layer is not botocore's urllib3 session (a test double), are not
    warmed: the first requests then connect as they are timed, as before."""
    from concurrent.futures import ThreadPoolExecutor

    try:
        http = client._endpoint.http_session
        url = client.meta.endpoint_url
        if http._proxy_config.proxy_url_for(url):
            return 0
        pool = http._get_connection_manager(url).connection_from_url(url)
        taken = [pool._get_conn() for _ in range(count)]
    except (AttributeError, TypeError, ValueError):
        return 0

    def opened(connection: Any) -> tuple[Any, bool]:
        try:
            connection = connection or pool._new_conn()
            if connection.sock is None:
                connection.connect()
            return connection, True
        except Exception:  # not warmed: that request connects when it is sent, and the error (if any) is its own
            return connection, False

    with ThreadPoolExecutor(max_workers=max(1, min(count, 16))) as opening:
        outcomes = list(opening.map(opened, taken))
    for connection, _ in outcomes:
        pool._put_conn(connection)
    return sum(1 for _, ok in outcomes if ok)


def utc_now() -> datetime:
    return datetime.now(UTC)


class LagMonitor:
    """How late this process's threads get to run while it measures: a thread asks to wake every
    ``interval`` seconds and records how late it woke. Another thread holding the interpreter lock
    (parsing its stream) or other processes taking the CPU delay it exactly as they delay a stream's
    next event, so its lateness is what the run's real-time timings may include of this machine's
    own making. With the per-request ``clock`` virtual (tests), nothing is recorded."""

    def __init__(self, interval: float = 0.005, enabled: bool = True):
        self.interval, self.enabled = interval, enabled
        self.late: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu_start = self._wall_start = 0.0
        self.cpu_share: float | None = None

    def _watch(self) -> None:
        due = time.perf_counter() + self.interval
        while not self._stop.wait(max(0.0, due - time.perf_counter())):
            self.late.append(max(0.0, time.perf_counter() - due))
            due += self.interval
            due = max(due, time.perf_counter())  # after a long stall, no burst of catch-up samples

    def __enter__(self) -> LagMonitor:
        if self.enabled:
            self._cpu_start, self._wall_start = time.process_time(), time.perf_counter()
            self._thread = threading.Thread(target=self._watch, name="bench-lag-monitor", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            wall = time.perf_counter() - self._wall_start
            self.cpu_share = (time.process_time() - self._cpu_start) / wall if wall > 0 else None

    def p99_ms(self) -> float | None:
        value = percentile(self.late, 99)
        return None if value is None else round(value * 1000, 3)


# Above this lateness (p99, milliseconds) the report warns: the tool's own budget for what it may add
# to a median timing, the goal it is tested against at --concurrency 64 (tests/tools/test_load.py).
LAG_WARNING_MS = 5.0


def lag_warning(lag_p99_ms: float | None, cpu_share: float | None, concurrency: int) -> str | None:
    """What to tell the reader when this process could not drive the run honestly, or ``None``."""
    if lag_p99_ms is None or lag_p99_ms <= LAG_WARNING_MS:
        return None
    cpu = "" if cpu_share is None else f"; it used {cpu_share:.0%} of one CPU core"
    return (
        f"warning: this process ran up to {lag_p99_ms:.1f} ms late (p99) while measuring{cpu}, so its timings may "
        f"include that much delay of its own or of this machine's. Lower --concurrency (now {concurrency}), run on an "
        "idle machine, or split the load over several bench processes and compare their reports"
    )


@dataclass
class RunRecord:
    """Where and when a run measured, and its aggregate throughput over its wall time (every target
    together: the requests of all targets share the run's concurrency)."""

    endpoint: str  # the runtime endpoint the requests went to
    started_at: str  # UTC, ISO 8601
    finished_at: str
    wall_s: float
    requests: int
    completed: int  # requests that succeeded with a complete stream
    output_tokens: int  # of the completed requests
    requests_per_s: float | None
    completed_per_s: float | None
    output_tokens_per_s: float | None
    concurrency: int = 1
    warmed_connections: int = 0  # opened before the clock started (warm_connections)
    process_lag_p99_ms: float | None = None  # LagMonitor: how late this process's threads ran (real clock only)
    process_cpu_share: float | None = None  # CPU seconds of this process per wall second
    send_spacing_ms: float | None = None  # StartPacer: the median spacing of the run's sends (real clock only)
    warning: str | None = None

    def line(self) -> str:
        rate = "-" if self.requests_per_s is None else f"{self.requests_per_s:.2f}"
        tokens = "-" if self.output_tokens_per_s is None else f"{self.output_tokens_per_s:.1f}"
        line = (
            f"Measured at {self.endpoint} from {self.started_at} to {self.finished_at} ({self.wall_s:.3f} s): "
            f"{self.requests} requests ({rate}/s), {self.completed} completed, {tokens} output tokens/s"
        )
        if self.send_spacing_ms is not None:
            line += f"; requests sent {self.send_spacing_ms:.1f} ms apart (median)"
        if self.process_lag_p99_ms is not None:
            line += f"; this process ran at most {self.process_lag_p99_ms:.1f} ms late (p99)"
        return line + (f"\n{self.warning}" if self.warning else "")


@contextmanager
def _no_collection_pauses(enabled: bool) -> Iterator[None]:
    """Python's cyclic garbage collector stops every thread while it runs, for milliseconds on a
    heap the size of botocore's: during a real-time run each such pause lands in some stream's
    timing. It collects once before the clock starts and not again until the run ends (``timeit``
    does the same); reference counting still frees every request's objects as it goes."""
    if not enabled or not gc.isenabled():
        yield
        return
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def timed_run(
    client: Any,
    targets: list[Target],
    prompts: list[Prompt],
    *,
    wall_clock: Callable[[], float] = time.perf_counter,
    now: Callable[[], datetime] = utc_now,
    **options: Any,
) -> tuple[list[Result], RunRecord]:
    """``run`` with its record: the endpoint, UTC start and end, wall seconds (``wall_clock``, not the
    per-request ``clock``), and requests and output tokens per wall second."""
    real_time = options.get("clock", time.perf_counter) is time.perf_counter
    concurrency = int(options.get("concurrency", 1))
    warmed = warm_connections(client, concurrency) if real_time else 0
    pacer = StartPacer(enabled=real_time)
    with _no_collection_pauses(real_time):
        started_at, start = now(), wall_clock()
        with LagMonitor(enabled=real_time) as monitor:
            results = run(client, targets, prompts, pacer=pacer, **options)
        wall, finished_at = round(wall_clock() - start, 6), now()
    lag = monitor.p99_ms()
    completed = [r for r in results if r.status == "ok"]
    tokens = sum(r.output_tokens or 0 for r in completed)
    return results, RunRecord(
        endpoint=run_endpoints(client, options.get("mantle"), targets),
        started_at=started_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        finished_at=finished_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        wall_s=wall,
        requests=len(results),
        completed=len(completed),
        output_tokens=tokens,
        requests_per_s=len(results) / wall if wall > 0 else None,
        completed_per_s=len(completed) / wall if wall > 0 else None,
        output_tokens_per_s=tokens / wall if wall > 0 else None,
        concurrency=concurrency,
        warmed_connections=warmed,
        process_lag_p99_ms=lag,
        process_cpu_share=None if monitor.cpu_share is None else round(monitor.cpu_share, 3),
        send_spacing_ms=pacer.median_spacing_ms(),
        warning=lag_warning(lag, monitor.cpu_share, concurrency),
    )


def run_endpoints(runtime: Any, mantle_client: Any, targets: list[Target]) -> str:
    """The endpoints a run's targets were streamed from, as the run's record names them."""
    found = []
    if any(t.endpoint != MANTLE for t in targets) or not targets:
        found.append(str(getattr(getattr(runtime, "meta", None), "endpoint_url", "unknown")))
    if any(t.endpoint == MANTLE for t in targets):
        found.append(str(getattr(mantle_client, "base_url", "unknown")))
    return " and ".join(found)


def prepare_out(path: str) -> Path:
    """The output folder, created and proven writable before the first request is sent (and paid
    for): a file in its place or a folder that cannot be made is a one-line message, not a
    traceback after the run."""
    import tempfile

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise BenchError(f"--out {path}: is a file, not a folder; give a folder for the report")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise BenchError(f"--out {path}: cannot write the report there ({error.strerror or error})") from None
    return folder


# --- statistics and reports --------------------------------------------------------------------


def _elapsed(clock: Callable[[], float], start: float) -> float:
    """Seconds since ``start``, to the microsecond: finer digits are clock noise, and would make the
    statistics of identical runs differ in their last printed digit."""
    return round(clock() - start, 6)


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Summary:
    target: str
    model_id: str
    requests: int
    ok: int
    throttled: int
    errors: int
    error_codes: dict[str, int] = field(default_factory=dict)  # throttles' and errors' codes
    incomplete: int = 0  # streams that ended without messageStop and metadata
    throttle_codes: dict[str, int] = field(default_factory=dict)
    incomplete_reasons: dict[str, int] = field(default_factory=dict)
    ttft: dict[str, float | None] = field(default_factory=dict)
    e2e: dict[str, float | None] = field(default_factory=dict)
    mean_output_tokens_per_s: float | None = None
    mean_input_tokens: float | None = None
    mean_output_tokens: float | None = None
    requested_latency: str | None = None
    served: dict[str, int] = field(default_factory=dict)  # served latency -> requests
    served_optimized_share: float | None = None
    cost_per_1000: float | None = None
    cost_source: str = "unknown"
    streamed_with: str | None = None  # when not ConverseStream: the operation, format and why


def streamed_with(target: Target) -> str | None:
    """How ``target`` was streamed, when not ConverseStream as usual (the report's ``streamed with``)."""
    if target.endpoint == MANTLE:
        return f"chat completions on the {MANTLE} endpoint (stream: true)" + (f": {target.note}" if target.note else "")
    if target.invoke_format is None:
        return None
    return f"InvokeModelWithResponseStream, {target.invoke_format} format" + (f": {target.note}" if target.note else "")


def summarize(target: Target, results: list[Result], prices: dict[str, dict[str, Any]] | None = None) -> Summary:
    mine = [r for r in results if r.target == target.label]
    ok = [r for r in mine if r.status == "ok"]
    summary = Summary(
        target=target.label,
        model_id=target.model_id,
        requests=len(mine),
        ok=len(ok),
        throttled=sum(1 for r in mine if r.status == "throttled"),
        errors=sum(1 for r in mine if r.status == "error"),
        error_codes=dict(Counter(r.error_code for r in mine if r.status in ("throttled", "error") and r.error_code)),
        incomplete=sum(1 for r in mine if r.status == "incomplete"),
        throttle_codes=dict(Counter(r.error_code for r in mine if r.status == "throttled" and r.error_code)),
        incomplete_reasons=dict(Counter(r.error_code for r in mine if r.status == "incomplete" and r.error_code)),
        requested_latency=target.latency,
        streamed_with=streamed_with(target),
    )
    ttfts = [r.ttft_s for r in ok if r.ttft_s is not None]
    e2es = [r.e2e_s for r in ok if r.e2e_s is not None]
    summary.ttft = {f"p{q}": percentile(ttfts, q) for q in (50, 90, 99)}
    summary.e2e = {f"p{q}": percentile(e2es, q) for q in (50, 90, 99)}
    rates = [r.output_tokens_per_s for r in ok if r.output_tokens_per_s is not None]
    summary.mean_output_tokens_per_s = sum(rates) / len(rates) if rates else None
    ins = [r.input_tokens for r in ok if r.input_tokens is not None]
    outs = [r.output_tokens for r in ok if r.output_tokens is not None]
    summary.mean_input_tokens = sum(ins) / len(ins) if ins else None
    summary.mean_output_tokens = sum(outs) / len(outs) if outs else None
    summary.served = dict(Counter(r.served_latency or "not reported" for r in ok))
    if ok:
        summary.served_optimized_share = sum(1 for r in ok if r.served_latency == "optimized") / len(ok)
    summary.cost_per_1000, summary.cost_source = _cost(target, summary, ok, prices or {})
    return summary


def _cost(
    target: Target, summary: Summary, ok: list[Result], prices: dict[str, dict[str, Any]]
) -> tuple[float | None, str]:
    """Per-token price (``--prices``) x mean tokens; or, for provisioned throughput the spec prices,
    its hourly price over the requests per hour this run achieved."""
    found = token_price(target, prices)
    if found is not None and summary.mean_input_tokens is not None and summary.mean_output_tokens is not None:
        key, price = found
        per_request = (
            summary.mean_input_tokens * price["inputPerMillion"]
            + summary.mean_output_tokens * price["outputPerMillion"]
        ) / 1_000_000
        return per_request * 1000, f"token prices for {key} ({price.get('source', '--prices file')})"
    if target.hourly is not None and ok:
        busy = sum(r.e2e_s or 0 for r in ok)  # seconds of serving per request, one at a time
        return target.hourly / 3600 * busy / len(
            ok
        ) * 1000, f"provisioned ${target.hourly:,.2f}/h ({target.hourly_source}), one request at a time"
    return None, "unknown"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def render_table(summary: Summary) -> str:
    throttles = summary.throttle_codes
    codes = ", ".join(
        f"{code}: {count}" for code, count in sorted(summary.error_codes.items()) if code not in throttles
    )
    share = "-" if summary.served_optimized_share is None else f"{summary.served_optimized_share:.0%}"
    served = ", ".join(f"{mode}: {count}" for mode, count in sorted(summary.served.items())) or "-"
    cost = "unknown" if summary.cost_per_1000 is None else f"${summary.cost_per_1000:,.4f}"
    rate = "-" if summary.mean_output_tokens_per_s is None else f"{summary.mean_output_tokens_per_s:.1f}"
    rows = [
        ("model id", f"`{summary.model_id}`"),
        *([("streamed with", summary.streamed_with)] if summary.streamed_with else []),
        ("requested latency", summary.requested_latency or "not set (standard)"),
        ("requests", str(summary.requests)),
        ("succeeded", str(summary.ok)),
        (
            "throttled",
            str(summary.throttled)
            + (f" ({', '.join(f'{c}: {n}' for c, n in sorted(throttles.items()))})" if throttles else ""),
        ),
        ("errors", str(summary.errors) + (f" ({codes})" if codes else "")),
        (
            "incomplete",
            str(summary.incomplete)
            + (
                f" ({', '.join(f'{c}: {n}' for c, n in sorted(summary.incomplete_reasons.items()))})"
                if summary.incomplete
                else ""
            ),
        ),
        ("TTFT p50 / p90 / p99 (s)", " / ".join(_seconds(summary.ttft[k]) for k in ("p50", "p90", "p99"))),
        ("end-to-end p50 / p90 / p99 (s)", " / ".join(_seconds(summary.e2e[k]) for k in ("p50", "p90", "p99"))),
        ("mean output tokens/s", rate),
        ("served optimized", f"{share} ({served})"),
        ("est. cost per 1,000 requests", cost + ("" if summary.cost_per_1000 is None else f" ({summary.cost_source})")),
    ]
    lines = [f"## {summary.target}", "", "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines) + "\n"


def write_csv(results: list[Result], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for result in sorted(results, key=lambda r: r.index):
            writer.writerow({k: ("" if v is None else v) for k, v in asdict(result).items()})


def plot(summaries: list[Summary], results: list[Result], path: Path) -> Path:
    """TTFT and end-to-end latency per target (box plots) and mean output tokens/s (bars)."""

    labels = [s.target for s in summaries]
    short = [label if len(label) <= 28 else label[:12] + "..." + label[-13:] for label in labels]
    figure = extras.figure(max(8, 2.6 * len(labels) + 3), 4.5)
    axes = figure.subplots(1, 3)
    for ax, attribute, title in (
        (axes[0], "ttft_s", "time to first token (s)"),
        (axes[1], "e2e_s", "end-to-end latency (s)"),
    ):
        data = [
            [
                getattr(r, attribute)
                for r in results
                if r.target == label and r.status == "ok" and getattr(r, attribute) is not None
            ]
            for label in labels
        ]
        positions = [i + 1 for i, values in enumerate(data) if values]
        if positions:
            ax.boxplot(
                [data[i - 1] for i in positions],
                positions=positions,
                whis=(0, 100),
                patch_artist=True,
                boxprops={"facecolor": "tab:blue", "alpha": 0.6},
            )
        ax.set_xticks(range(1, len(labels) + 1), short, rotation=20, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(True, axis="y", alpha=0.3)
    rates = [s.mean_output_tokens_per_s or 0 for s in summaries]
    axes[2].bar(range(1, len(labels) + 1), rates, color="tab:orange")
    axes[2].set_xticks(range(1, len(labels) + 1), short, rotation=20, ha="right", fontsize=8)
    axes[2].set_title("mean output tokens/s", fontsize=10)
    axes[2].grid(True, axis="y", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def report(
    targets: list[Target],
    results: list[Result],
    out: Path,
    prices: dict[str, dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
    record: RunRecord | None = None,
) -> str:
    """Writes results.csv, results.json, report.md and chart.png into ``out``; returns the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    summaries = [summarize(t, results, prices) for t in targets]
    write_csv(results, out / "results.csv")
    document = {
        "settings": settings or {},
        "run": None if record is None else asdict(record),
        "summaries": [asdict(s) for s in summaries],
        "results": [asdict(r) for r in sorted(results, key=lambda r: r.index)],
    }
    (out / "results.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    try:
        chart = f"chart: {plot(summaries, results, out / 'chart.png')}"
    except extras.MissingExtra as missing:
        chart = f"no chart ({missing})"
    text = "\n".join(render_table(s) for s in summaries)
    if record is not None:
        text += f"\n{record.line()}\n"
    text += f"\nRaw results: {out / 'results.csv'}, {out / 'results.json'}; {chart}\n"
    (out / "report.md").write_text(text, encoding="utf-8")
    return text


# --- the command -------------------------------------------------------------------------------


ENDPOINT_HELP = (
    "send the runtime requests to this URL instead of the Region's endpoint (a proxy, a VPC endpoint, a gateway); "
    "botocore also reads AWS_ENDPOINT_URL_BEDROCK_RUNTIME (or AWS_ENDPOINT_URL) from the environment. "
    "The report names the endpoint it measured"
)


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint, or ``None``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{url!r} is not an endpoint URL; give one such as https://bedrock-runtime.us-east-1.amazonaws.com"
    return None


def runtime_client(session: Any, concurrency: int, endpoint_url: str | None = None) -> Any:
    """One attempt per request (throttles are counted, not retried), a connection per worker."""
    from botocore.config import Config

    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        read_timeout=300,
        max_pool_connections=max(10, concurrency),
    )
    return session.client("bedrock-runtime", config=config, endpoint_url=endpoint_url)


def main(
    args: argparse.Namespace,
    session: Any = None,
    clock: Callable[[], float] = time.perf_counter,
    wall_clock: Callable[[], float] = time.perf_counter,
    now: Callable[[], datetime] = utc_now,
    mantle: Any = None,
) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    from ..spec import load_stage_or_report

    if args.concurrency < 1 or args.repeats < 1:
        print("--concurrency and --repeats must be at least 1", file=sys.stderr)
        return 2
    from ..spec.regions import region_problem

    if args.region is not None and (problem := region_problem(args.region)) is not None:
        # Before any request: every call to an endpoint that does not exist would fail alike.
        print(f"--region: {problem}", file=sys.stderr)
        return 1
    if args.endpoint_url is not None and (problem := endpoint_problem(args.endpoint_url)) is not None:
        print(f"--endpoint-url: {problem}", file=sys.stderr)
        return 1
    spec = None
    region = args.region
    try:
        out = prepare_out(args.out)
        if args.stage is not None:
            spec = load_stage_or_report(args.spec, args.stage)
            if spec is None:
                return 1
            region = region or next(s.region for s in spec.stage_settings() if s.name == args.stage)
        prompts = shipped_prompts() if args.prompts is None else parse_prompts(_read_text(args.prompts), args.prompts)
        prices = load_prices(args.prices)
        if region is None:
            region = arns_region(args.targets)
        if session is None:
            import boto3

            session = boto3.Session(profile_name=args.profile, region_name=region)
        if session.region_name is None:
            raise BenchError(NO_REGION)
        targets = resolve_targets(args.targets, spec, args.stage, session, mantle)
        if len({t.label for t in targets}) != len(targets):
            raise BenchError("a target is given twice")
        if session.get_credentials() is None:
            raise NoCredentialsError()
        if mantle is None and any(t.endpoint == MANTLE for t in targets):
            mantle = mantle_client(session, args.concurrency)
        client = runtime_client(session, args.concurrency, args.endpoint_url)
        results, record = timed_run(
            client,
            targets,
            prompts,
            wall_clock=wall_clock,
            now=now,
            repeats=args.repeats,
            concurrency=args.concurrency,
            seed=args.seed,
            clock=clock,
            progress=not args.no_progress,
            mantle=mantle,
        )
    except (BenchError, GateFileError) as error:
        print(error, file=sys.stderr)
        return 1
    except NoCredentialsError:
        print(
            "no AWS credentials: sign in to the account that serves the targets (e.g. --profile or AWS_PROFILE) and run again",
            file=sys.stderr,
        )
        return 1
    except ProfileNotFound:
        from .deployed import unknown_profile

        print(unknown_profile("bench", args.profile), file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"AWS: {error}", file=sys.stderr)
        return 1
    settings = {
        "targets": [asdict(t) for t in targets],
        "prompts": args.prompts or "shipped",
        "prompt_count": len(prompts),
        "repeats": args.repeats,
        "concurrency": args.concurrency,
        "seed": args.seed,
        "region": session.region_name,
        "endpoint": record.endpoint,
    }
    print(report(targets, results, out, prices, settings, record))
    if results and all(r.status != "ok" for r in results):
        print("every request failed: see the error codes above", file=sys.stderr)
        return 1
    return 0


def arns_region(targets: list[str]) -> str | None:
    """The Region every target names, when every target is an ARN of the same Region (a model is
    invoked in its own Region); otherwise None, and the Region comes from the usual places."""
    regions = {text.split(",", 1)[0].split(":")[3] if text.count(":") >= 5 else "" for text in targets}
    if targets and all(text.startswith("arn:") for text in targets) and len(regions) == 1 and "" not in regions:
        return regions.pop()
    return None


# Where this botocore (1.44.5, configprovider.py) finds a Region: the client's own argument, the
# AWS_DEFAULT_REGION variable, or the profile's "region" in the shared config file. It does not
# read AWS_REGION (only its defaults mode does, and only when AWS_EXECUTION_ENV is set).
NO_REGION = (
    "no AWS region: give --region or --stage (or targets that are ARNs of one Region), set AWS_DEFAULT_REGION, "
    "or set region in the profile (aws configure set region REGION)"
)


def _read_text(path: str) -> str:
    try:
        return open(path, encoding="utf-8").read()
    except FileNotFoundError:
        raise BenchError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BenchError(f"{path}: cannot read: {error}") from None
