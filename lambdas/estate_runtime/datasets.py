"""JSONL dataset validation for Bedrock customization, with line-numbered errors.

Pure Python (standard library only): the same checks run at synth time on files in the
repository, in the command-line tool, and inside the job handler as a bounded pre-flight read of
datasets that already live in S3, before anyone pays for a job.

Formats:

- ``messages``: ``{"system"?: str, "messages": [{"role": "user"|"assistant", "content": str}, ...]}``,
  roles alternating from user, ending with assistant (Anthropic Claude fine-tuning).
- ``prompt-completion``: ``{"prompt": str, "completion": str}`` (Titan, Llama fine-tuning).
- ``input``: ``{"input": str}`` (continued pre-training).
- ``bedrock-conversation-2024``: ``{"schemaVersion": "bedrock-conversation-2024", "system"?: [{"text"}],
  "messages": [{"role", "content": [{"text"}]}]}`` (Nova fine-tuning, distillation prompts).
- ``image-caption``: ``{"image-ref": "s3://...", "caption": str}`` (Titan Multimodal Embeddings
  fine-tuning; the images themselves are read by Bedrock, not checked here).
- ``rft``: ``{"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...],
  "reference_answer": any, ...}`` (reinforcement fine-tuning prompts, OpenAI chat-completion
  format, single-turn text: the conversation ends with the one user prompt the model answers;
  other fields reach the grader as ``metadata``). User guide "Prepare data for Amazon Nova models"
  (rft-prepare-data.html) and "Fine-tune Amazon Nova models with reinforcement fine-tuning"
  (rft-nova-models.html), read 2026-11-23. Its token limit applies to the prompt (``messages``)
  only: the job's ``maxPromptLength``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .s3_uri import is_s3_uri

FORMATS = ("messages", "prompt-completion", "input", "bedrock-conversation-2024", "image-caption", "rft")
RFT_ROLES = ("system", "user", "assistant")
CONVERSATION_SCHEMA = "bedrock-conversation-2024"
MAX_REPORTED_ERRORS = 20
_FILE = "<file>"  # where a message names the file; render() puts the file's name in

EMPTY_LINE = "empty line; every line must hold one JSON record"
"""A blank line in a JSONL training file, as every dataset check names it."""


@dataclass(frozen=True)
class DatasetRules:
    """What one dataset must satisfy for one base model and purpose."""

    format: str
    min_records: int | None = None
    max_records: int | None = None
    max_tokens_per_record: int | None = None
    max_bytes: int | None = None
    # bedrock-conversation-2024 only: distillation prompts hold one user turn (and optionally the
    # assistant's answer); fine-tuning data is a whole conversation ending with the assistant.
    single_turn: bool = False
    require_final_assistant: bool = True

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown dataset format {self.format!r}; known: {', '.join(FORMATS)}")


@dataclass
class DatasetReport:
    records: int = 0
    bytes: int = 0
    max_tokens: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0
    complete: bool = True  # False when a bounded read stopped before the end of the data
    # Records in another format the CLI can convert from: (format found, first line, count), and
    # the format the rules want.
    other_format: tuple[str, int, int] | None = None
    target_format: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, message))

    def note_other_format(self, line: int, found: str, target: str) -> None:
        """A record in a format the CLI converts from: reported once for the file, not per field."""
        self.target_format = target
        if self.other_format is None:
            self.error_count += 1
            self.other_format = (found, line, 1)
        else:
            self.other_format = (found, self.other_format[1], self.other_format[2] + 1)

    def _finish(self) -> None:
        if self.other_format is None:
            return
        found, line, count = self.other_format
        target = self.target_format or "messages"
        if found == "rft":
            # Prompts without answers: converting them cannot make training data of another type.
            message = (
                f'{count} of {self.records} records are reinforcement fine-tuning prompts ({{"messages", "reference_answer"}}), '
                f"but this model takes {_FORMAT_WORDS[target]} here; they are for a REINFORCEMENT_FINE_TUNING job "
                "(type: REINFORCEMENT_FINE_TUNING in the spec, --type REINFORCEMENT_FINE_TUNING for validate), whose grader "
                "scores the answers the model generates"
            )
            self.errors.insert(sum(1 for n, _ in self.errors if 0 < n < line), (line, message))
            del self.errors[MAX_REPORTED_ERRORS:]
            return
        if target == "prompt-completion":
            # The converter writes the conversation formats only: say what the file must become.
            how = 'rewrite each record as one prompt and its answer, {"prompt": "...", "completion": "..."}'
        else:
            how = f"convert the file with `bedrock-estate convert {_FILE} --to {target} -o converted.jsonl`"
        message = f"{count} of {self.records} records are {_FORMAT_WORDS[found]}, but this model takes {_FORMAT_WORDS[target]}; {how}"
        self.errors.insert(sum(1 for n, _ in self.errors if 0 < n < line), (line, message))
        del self.errors[MAX_REPORTED_ERRORS:]

    def render(self, source: str) -> str:
        lines = [
            f"{source}:{line}: {message}" if line else f"{source}: {message}"
            for line, message in ((n, m.replace(_FILE, source)) for n, m in self.errors)
        ]
        hidden = self.error_count - len(self.errors)
        if hidden > 0:
            lines.append(f"{source}: ... and {hidden} more problem{'s' if hidden != 1 else ''}")
        return "\n".join(lines)

    def summary(self, max_bytes: int) -> str:
        """The problems as ``line N: message`` lines within ``max_bytes`` (UTF-8): the first ones,
        then how many more. For messages with a size limit (CloudFormation's 4 KB response) that
        name the file once in their own words rather than on every line."""
        lines: list[str] = []
        used = 0
        for line, message in self.errors:
            entry = f"line {line}: {message}" if line else message
            if len(entry) > 300:
                entry = entry[:297] + "..."
            size = len(entry.encode("utf-8")) + 1
            if lines and used + size > max_bytes:
                break
            lines.append(entry)
            used += size
        more = self.error_count - len(lines)
        if more:
            lines.append(f"... and {more} more problems")
        return "\n".join(lines)


def estimate_tokens(text: str) -> int:
    """A deliberately generous token estimate (no tokenizer is available offline): the larger of
    one token per 3.5 characters and 1.4 tokens per word."""
    return max(math.ceil(len(text) / 3.5), math.ceil(len(text.split()) * 1.4))


def validate(lines: Iterable[str | bytes], rules: DatasetRules, *, max_lines: int | None = None) -> DatasetReport:
    """Check every record. With ``max_lines``, stop after that many lines (a bounded pre-flight);
    counts that need the whole file are then checked only if the file ended within the bound."""
    report = DatasetReport()
    number = 0
    for number, raw in enumerate(lines, start=1):
        if max_lines is not None and number > max_lines:
            report.complete = False
            number -= 1
            break
        report.bytes += len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8"))
        text, problem = decode_line(raw, first=number == 1)
        if problem is not None:
            report.add(number, problem)
        if text is None:
            continue
        if not text.strip():
            report.add(number, EMPTY_LINE)
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            report.add(number, f"not valid JSON: {err.msg} (column {err.colno})")
            continue
        report.records += 1
        found = _convertible_format(record, rules.format)
        if found is not None:
            report.note_other_format(number, found, rules.format)
            continue
        for message in _CHECKS[rules.format](record, rules):
            report.add(number, message)
        prompt_only = rules.format == "rft"  # the reference answer is the grader's, not the model's input
        tokens = estimate_tokens(
            _all_text(record.get("messages") if prompt_only and isinstance(record, dict) else record)
        )
        report.max_tokens = max(report.max_tokens, tokens)
        if rules.max_tokens_per_record and tokens > rules.max_tokens_per_record:
            if prompt_only:
                report.add(
                    number,
                    f"the prompt is about {tokens} tokens, over maxPromptLength {rules.max_tokens_per_record}; shorten it or raise maxPromptLength",
                )
            else:
                report.add(number, f"about {tokens} tokens, over the limit of {rules.max_tokens_per_record} per record")
    if report.complete:
        if report.records == 0 and report.error_count == 0:
            # Nothing to train or validate on (the count below would say "0 records" for training data only).
            report.add(0, "the file holds no records; write one JSON record per line")
        elif rules.min_records is not None and report.records < rules.min_records:
            report.add(0, f"{_records(report.records)}; at least {rules.min_records} are required")
        if rules.max_records is not None and report.records > rules.max_records:
            report.add(0, f"{_records(report.records)}; at most {rules.max_records} are allowed")
    elif rules.max_records is not None and report.records > rules.max_records:
        report.add(0, f"more than {rules.max_records} records; at most {rules.max_records} are allowed")
    if rules.max_bytes is not None and report.bytes > rules.max_bytes:
        report.add(0, f"{report.bytes} bytes; at most {rules.max_bytes} are allowed")
    report._finish()
    return report


def _records(count: int) -> str:
    return f"{count} record{'s' if count != 1 else ''}"


def read_lines(path: str) -> Iterator[bytes]:
    """The file's lines as bytes, without line endings: decoding is :func:`decode_line`'s, so a
    file that is not UTF-8 is reported by line instead of failing the whole read."""
    with open(path, "rb") as handle:
        for line in handle:
            yield line.rstrip(b"\n").rstrip(b"\r")


_BOM = "\ufeff"


def decode_line(raw: str | bytes, *, first: bool = False) -> tuple[str | None, str | None]:
    """(text, problem): the line as text (None when it cannot be read) and what is wrong with its
    encoding, in the user's terms."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            return None, (
                f"not UTF-8 text (byte 0x{raw[err.start]:02x} at column {err.start + 1}); "
                "save the file with UTF-8 encoding"
            )
    else:
        text = raw
    if text.startswith(_BOM):
        where = "the file starts" if first else "the line starts"
        return text[1:], (
            f"{where} with a byte-order mark (an invisible character some editors add); "
            "save the file as UTF-8 without BOM"
        )
    return text, None


_FORMAT_WORDS = {
    "messages": 'messages ({"messages": [{"role", "content"}]})',
    "prompt-completion": 'prompt/completion ({"prompt", "completion"})',
    "input": 'continued pre-training input ({"input"})',
    "bedrock-conversation-2024": "bedrock-conversation-2024",
}


def _convertible_format(record: object, expected: str) -> str | None:
    """The other format a record is in, when ``bedrock-estate convert`` turns it into ``expected``
    (or ``rft``: reinforcement fine-tuning prompts, which no conversion makes training data)."""
    if (
        expected in _FORMAT_WORDS
        and isinstance(record, dict)
        and "reference_answer" in record
        and isinstance(record.get("messages"), list)
    ):
        return "rft"
    if expected == "prompt-completion" and isinstance(record, dict) and isinstance(record.get("messages"), list):
        # Conversations for a model that takes prompt/completion: said once for the file.
        return "bedrock-conversation-2024" if "schemaVersion" in record else "messages"
    if not isinstance(record, dict) or expected not in ("messages", "bedrock-conversation-2024"):
        return None
    if "prompt" in record and set(record) <= {"prompt", "completion"}:
        return "prompt-completion"
    turns = record.get("messages")
    if (
        expected == "bedrock-conversation-2024"
        and "schemaVersion" not in record
        and isinstance(turns, list)
        and turns
        and isinstance(turns[0], dict)
        and isinstance(turns[0].get("content"), str)
    ):
        return "messages"
    return None


# -- per-format checks -----------------------------------------------------------------------------


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type: null, true/false, number, string, list, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _text(value: object, where: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{where} must be a string, got {_json_type(value)}"]
    if not value.strip():
        return [f"{where} is empty"]
    return []


def _unknown(record: dict, allowed: set[str]) -> list[str]:
    extra = sorted(set(record) - allowed)
    return [f"unknown field {name!r}; allowed: {', '.join(sorted(allowed))}" for name in extra]


def _object(record: object) -> list[str]:
    return [] if isinstance(record, dict) else [f"a record must be a JSON object, got {_json_type(record)}"]


def _check_messages(record: object, rules: DatasetRules) -> list[str]:
    if problems := _object(record):
        return problems
    assert isinstance(record, dict)
    problems = _unknown(record, {"system", "messages"})
    if "system" in record:
        problems += _text(record["system"], "system")

    def content(turn: dict, where: str) -> list[str]:
        return _text(turn.get("content"), f"{where}.content") + [
            f"{where}: {p}" for p in _unknown(turn, {"role", "content"})
        ]

    return problems + _check_turns(record.get("messages"), content, require_final_assistant=True)


def _check_turns(turns: object, content, *, require_final_assistant: bool) -> list[str]:
    """Turns alternate user, assistant, ...; ``content`` checks one turn's content."""
    if not isinstance(turns, list) or not turns:
        return ["messages must be a non-empty list of {role, content}"]
    problems: list[str] = []
    for index, turn in enumerate(turns):
        where = f"messages[{index}]"
        if not isinstance(turn, dict):
            problems.append(f"{where} must be an object with role and content")
            continue
        expected = "user" if index % 2 == 0 else "assistant"
        if turn.get("role") != expected:
            problems.append(
                f"{where}.role is {turn.get('role')!r}; roles alternate user, assistant, ... (expected {expected!r})"
            )
        problems += content(turn, where)
    if require_final_assistant and isinstance(turns[-1], dict) and turns[-1].get("role") != "assistant":
        problems.append("the last message must be the assistant's")
    return problems


def _check_prompt_completion(record: object, rules: DatasetRules) -> list[str]:
    if problems := _object(record):
        return problems
    assert isinstance(record, dict)
    # A key that is absent is missing, not null: say which it is.
    problems = _unknown(record, {"prompt", "completion"})
    for key in ("prompt", "completion"):
        problems += [f"{key} is missing"] if key not in record else _text(record[key], key)
    return problems


def _check_input(record: object, rules: DatasetRules) -> list[str]:
    if problems := _object(record):
        return problems
    assert isinstance(record, dict)
    return _unknown(record, {"input"}) + _text(record.get("input"), "input")


def _check_image_caption(record: object, rules: DatasetRules) -> list[str]:
    if problems := _object(record):
        return problems
    assert isinstance(record, dict)
    problems = _unknown(record, {"image-ref", "caption"}) + _text(record.get("caption"), "caption")
    ref = record.get("image-ref")
    if not is_s3_uri(ref):
        problems.append("image-ref must be the s3:// URI of the image")
    return problems


def _content_blocks(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        return [f'{where} must be a non-empty list of {{"text": ...}} blocks']
    problems = []
    for index, block in enumerate(value):
        if not isinstance(block, dict) or "text" not in block:
            problems.append(f"{where}[{index}] must be an object with text")
        else:
            problems += _text(block["text"], f"{where}[{index}].text")
    return problems


def _check_conversation(record: object, rules: DatasetRules) -> list[str]:
    if problems := _object(record):
        return problems
    assert isinstance(record, dict)
    problems = _unknown(record, {"schemaVersion", "system", "messages"})
    if record.get("schemaVersion") != CONVERSATION_SCHEMA:
        if "schemaVersion" not in record:
            problems.append(
                f'schemaVersion is missing: every record of this format starts with "schemaVersion": "{CONVERSATION_SCHEMA}"'
            )
        else:
            problems.append(f"schemaVersion must be {CONVERSATION_SCHEMA!r}, got {record.get('schemaVersion')!r}")
    if "system" in record:
        problems += _content_blocks(record["system"], "system")
    turns = record.get("messages")
    if rules.single_turn and isinstance(turns, list) and len(turns) > 2:
        problems.append(f"{len(turns)} messages; this use takes one user message and optionally one assistant answer")

    def content(turn: dict, where: str) -> list[str]:
        return _content_blocks(turn.get("content"), f"{where}.content")

    return problems + _check_turns(turns, content, require_final_assistant=rules.require_final_assistant)


def _check_rft(record: object, rules: DatasetRules) -> list[str]:
    """One reinforcement fine-tuning prompt: OpenAI chat-completion messages (text only, single
    turn: optional system message, then the user prompt last) and the grader's reference_answer.
    Any other field is allowed: Bedrock passes it to the grader in ``metadata``."""
    if problems := _object(record):
        return problems
    assert isinstance(record, dict)
    problems = []
    if "reference_answer" not in record:
        problems.append("reference_answer is missing; the grader scores each answer against it")
    elif record["reference_answer"] is None or record["reference_answer"] in ("", {}, []):
        problems.append("reference_answer is empty; the grader scores each answer against it")
    turns = record.get("messages")
    if not isinstance(turns, list) or not turns:
        return [*problems, "messages must be a non-empty list of {role, content}"]
    users = 0
    for index, turn in enumerate(turns):
        where = f"messages[{index}]"
        if not isinstance(turn, dict):
            problems.append(f"{where} must be an object with role and content")
            continue
        role = turn.get("role")
        if role not in RFT_ROLES:
            problems.append(f"{where}.role is {role!r}; expected one of {', '.join(RFT_ROLES)}")
        users += role == "user"
        if isinstance(turn.get("content"), list):
            problems.append(
                f"{where}.content must be text (a string): reinforcement fine-tuning takes text prompts only"
            )
        else:
            problems += _text(turn.get("content"), f"{where}.content")
        problems += [f"{where}: {p}" for p in _unknown(turn, {"role", "content"})]
    if users > 1:
        problems.append(f"{users} user messages; reinforcement fine-tuning prompts are single-turn (one user message)")
    last = turns[-1]
    if isinstance(last, dict) and last.get("role") != "user":
        problems.append("the last message must be the user's prompt, which the model answers during training")
    return problems


_CHECKS = {
    "rft": _check_rft,
    "messages": _check_messages,
    "prompt-completion": _check_prompt_completion,
    "input": _check_input,
    "bedrock-conversation-2024": _check_conversation,
    "image-caption": _check_image_caption,
}


def _all_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(_all_text(v) for k, v in value.items() if k not in ("role", "schemaVersion"))
    if isinstance(value, list):
        return " ".join(_all_text(v) for v in value)
    return ""


# -- conversion --------------------------------------------------------------------------------------


def to_messages(record: dict, system: str | None = None) -> dict:
    """``{"prompt", "completion"}`` to the Claude messages format."""
    out: dict = {}
    if system:
        out["system"] = system
    out["messages"] = [
        {"role": "user", "content": record["prompt"]},
        {"role": "assistant", "content": record["completion"]},
    ]
    return out


def to_conversation(record: dict, system: str | None = None, *, include_answer: bool = True) -> dict:
    """``{"prompt", "completion"}`` or the messages format to bedrock-conversation-2024."""
    if "prompt" in record:
        turns = [("user", record["prompt"])] + ([("assistant", record["completion"])] if include_answer else [])
        system = system or None
    else:
        turns = [(m["role"], m["content"]) for m in record["messages"]]
        # Chat-completion records hold the system prompt as a message; here it is the record's system.
        prompts = [text for role, text in turns if role == "system"]
        turns = [(role, text) for role, text in turns if role != "system"]
        if not include_answer and turns and turns[-1][0] == "assistant":
            turns = turns[:-1]
        system = system or record.get("system") or "\n".join(prompts) or None
    out: dict = {"schemaVersion": CONVERSATION_SCHEMA}
    if system:
        out["system"] = [{"text": system}]
    out["messages"] = [{"role": role, "content": [{"text": text}]} for role, text in turns]
    return out
