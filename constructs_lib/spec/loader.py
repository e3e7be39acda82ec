"""Load an estate spec from YAML and turn every mistake into a line-numbered, path-named message."""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from .errors import LocatedProblem, SpecError, SpecIssue, _clean_message
from .model import EstateSpec
from .sections import stage_sections
from .types import ROLE_ARN_PATTERN, Yaml11Boolean, Yaml11Number, YamlInt, quotes_hint, yaml_number_problem

Loc = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Merge keys (`<<: *defaults`) are YAML's way to override one field of an anchor: the keys
        # they bring in may be overridden; keys written twice in the mapping itself may not.
        written = [key_node for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge"]
        self.flatten_mapping(node)
        seen: dict[Any, int] = {}
        for key_node in written:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(str(key), line, seen[key])
            seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int | Yaml11Number:
        value = super().construct_yaml_int(node)
        text = node.value
        if _YAML12_DECIMAL.fullmatch(text) and int(text) != value:  # 030: octal 24 to YAML 1.1, 30 to YAML 1.2
            return Yaml11Number(text, value, int(text))
        if not (_YAML12_DECIMAL.fullmatch(text) or _YAML12_HEX.fullmatch(text)):  # 1_000, 1:30, 0b11, -0x1f
            return Yaml11Number(text, value, None)
        # Keep the text when it is not the number's decimal form (a sign, hex).
        return YamlInt(value, text) if text != str(value) else value

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float | Yaml11Number:
        value = super().construct_yaml_float(node)
        return value if _YAML12_FLOAT.fullmatch(node.value) else Yaml11Number(node.value, value, None)

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool | Yaml11Boolean:
        # YAML 1.2's booleans are true and false only; on, yes and the like are YAML 1.1's.
        if node.value.lower() in ("true", "false"):
            return node.value.lower() == "true"
        return Yaml11Boolean(node.value)

    def construct_yaml_str(self, node: yaml.ScalarNode) -> str | Yaml11Boolean | int | float:
        value = super().construct_yaml_str(node)
        if node.style:  # quoted or a block: text to every reader (a plain scalar has no style: None or "")
            return value
        if value in _YAML_1_1_LETTERS:  # PyYAML reads a plain y or n as text; YAML 1.1 defines them as booleans
            return Yaml11Boolean(value)
        # Numbers YAML 1.2 reads and PyYAML leaves as text: 1e-5 (YAML 1.1's floats need a dot), 0o17,
        # 012345678901 (no YAML 1.1 number): read as editors read them.
        if _YAML12_DECIMAL.fullmatch(value):
            return YamlInt(int(value), value)
        if _YAML12_OCTAL.fullmatch(value):
            return YamlInt(int(value[2:], 8), value)
        if _YAML12_FLOAT.fullmatch(value):
            return float(value)
        return value


# YAML 1.2's core schema numbers (YAML 1.2.2, 10.3.2 "Tag Resolution", https://yaml.org/spec/1.2.2/,
# read 2026-12-07); YAML 1.1's ints also take underscores, 0b, octal by a leading 0 and base 60
# (https://yaml.org/type/int.html), its floats underscores and base 60 and need a dot.
_YAML12_DECIMAL = re.compile(r"[-+]?[0-9]+")
_YAML12_OCTAL = re.compile(r"0o[0-7]+")
_YAML12_HEX = re.compile(r"0x[0-9a-fA-F]+")
_YAML12_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


# YAML 1.1's boolean forms PyYAML leaves as text ("Boolean Language-Independent Type for YAML 1.1",
# https://yaml.org/type/bool.html, read 2026-12-07): y|Y|yes|...|n|N|no|...|on|...|off|...
_YAML_1_1_LETTERS = frozenset({"y", "Y", "n", "N"})

_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _UniqueKeyLoader.construct_yaml_int)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _UniqueKeyLoader.construct_yaml_float)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:bool", _UniqueKeyLoader.construct_yaml_bool)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:str", _UniqueKeyLoader.construct_yaml_str)


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, first_line: int):
        self.key, self.line, self.first_line = key, line, first_line

    def path(self, text: str) -> str:
        """The duplicate's whole path (``stages.dev.account``, not ``account``), found in the
        document's node tree (composing does not construct mappings, so it does not stop here)."""
        found = _path_of_key(_compose(text), self.key, self.line, ())
        return ".".join(str(part) for part in found) if found else self.key


def _path_of_key(node: Any, key: str, line: int, path: Loc) -> Loc | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            here = (*path, key_node.value)
            if key_node.value == key and key_node.start_mark.line + 1 == line:
                return here
            found = _path_of_key(value_node, key, line, here)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found = _path_of_key(item, key, line, (*path, index))
            if found:
                return found
    return None


# What a missing spec's message suggests by default: the CDK app's syntax. Commands pass their own.
CDK_MISSING_HINT = "pass an existing spec with -c estate=PATH"


def load_spec(
    path: str | Path, *, missing_hint: str = "give the path of an existing spec", fetched_prices: Any = None
) -> EstateSpec:
    """Read and validate a spec file. Raises :class:`SpecError` listing every problem found.
    ``missing_hint`` is what to do when the file does not exist, in the caller's own syntax."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), [SpecIssue("", f"file not found; {missing_hint}")]) from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            str(path), [SpecIssue("", f"not UTF-8 text (byte {exc.start}); save the file with UTF-8 encoding")]
        ) from None
    except OSError as exc:
        raise SpecError(str(path), [SpecIssue("", f"cannot read the file: {exc.strerror}")]) from None
    return parse_spec(text, source=str(path), base_dir=path.parent, fetched_prices=fetched_prices)


def validate_fields(data: Any) -> EstateSpec:
    """Field validation of a spec document, keys as the YAML spells them (camelCase only: the
    JSON Schema accepts the same documents). Raises pydantic's ValidationError."""
    return EstateSpec.model_validate(data, by_alias=True, by_name=False)


def read_structure(path: str | Path) -> EstateSpec | None:
    """The spec after field validation only (no catalog, price or file checks), or None: what
    ``plan --prices aws`` needs to know which prices to read before the full check."""
    try:
        data, _ = _read_document(Path(path).read_text(encoding="utf-8"))
        return validate_fields(data)
    except Exception:  # noqa: BLE001 - load_spec reports every problem of such a file
        return None


def load_stage_or_report(path: str | Path, stage: str) -> EstateSpec | None:
    """For the tools that work on one stage (``--spec``, ``--stage``): the spec, or ``None`` after
    printing why not (the spec's problems, or the stage it does not have) to stderr."""
    try:
        spec = load_spec(path, missing_hint="give an existing spec with `--spec PATH`")
    except SpecError as error:
        print(error, file=sys.stderr)
        return None
    if stage not in spec.stages:
        print(f"{path}: no stage {stage!r}; stages: {', '.join(spec.stages)}", file=sys.stderr)
        return None
    return spec


def parse_spec(
    text: str, source: str = "<spec>", base_dir: Path | None = None, fetched_prices: Any = None
) -> EstateSpec:
    """Validate spec text. Raises :class:`SpecError` listing every problem found.
    ``fetched_prices``: prices read from AWS (``plan --prices aws``) for the commitment guard."""
    try:
        data, lines = _read_document(text)
    except _DuplicateKey as dup:
        raise SpecError(
            source,
            [SpecIssue(dup.path(text), f"duplicate key (first defined on line {dup.first_line}); keep one", dup.line)],
        ) from None
    except yaml.YAMLError as exc:
        # A tab in the indentation is the usual cause and YAML's own message hides it (and names a
        # later line): name the first tab instead.
        tab = next(
            (n for n, line in enumerate(text.splitlines(), 1) if "\t" in line[: len(line) - len(line.lstrip())]), None
        )
        if tab is not None:
            raise SpecError(
                source, [SpecIssue("", "a tab in the indentation; YAML indents with spaces only", tab)]
            ) from None
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise SpecError(source, [SpecIssue("", f"not valid YAML: {problem}", line)]) from None

    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(
            source, [SpecIssue("", f"the spec must be a mapping with name and stages; this file is {kind}")]
        )

    try:
        spec = validate_fields(data)
    except ValidationError as exc:
        issues = _without_what_follows(_issue(err, lines) for err in exc.errors())
        # Check the rest too (catalog, references, dataset files), so one run reports every
        # problem: without the entries that failed, and without what only follows from their absence.
        pruned, removed = _without_failing_entries(data, exc)
        if pruned is not None:
            unpriced = _refused_prices(exc)
            issues += [
                issue
                for problem in pruned.cross_check(base_dir, fetched_prices)
                if not any(
                    # A reference to an entry set aside (its name refused, say 'Summarizer' for 'summarizer')
                    # follows from that entry's own problem.
                    repr(name) in problem.detail
                    or repr(name.lower()) in problem.detail
                    or name.isdigit()
                    and name in problem.detail
                    for name in removed
                )
                and not _priced_by(pruned, problem, unpriced)
                for issue in _stage_issues(problem, lines)
            ]
        raise SpecError(source, _in_file_order(_dedupe(issues))) from None

    problems = spec.cross_check(base_dir, fetched_prices)
    if problems:
        raise SpecError(source, _in_file_order(_dedupe([issue for p in problems for issue in _stage_issues(p, lines)])))
    # Legacy models pass, but never silently: one line per finding, named like an error.
    for kind, problem in spec.lifecycle_findings():
        if kind == "warning":
            for issue in _stage_issues(problem, lines):
                print(f"warning: {issue.render(source)}", file=sys.stderr)
    for problem in spec.caution_findings():
        for issue in _stage_issues(problem, lines):
            print(f"warning: {issue.render(source)}", file=sys.stderr)
    return spec


def _refused_prices(error: ValidationError) -> set[tuple[str, str | None]]:
    """(base model, term) of every price that failed field validation; term None: all of them."""
    refused: set[tuple[str, str | None]] = set()
    for err in error.errors():
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] == "prices":
            refused.add((str(loc[1]), str(loc[2]) if len(loc) >= 3 else None))
    return refused


def _priced_by(spec: EstateSpec, problem: LocatedProblem, refused: set[tuple[str, str | None]]) -> bool:
    """Whether ``problem`` is about the commitment of a serving entry priced by a refused price:
    the price is the mistake to fix, and what the commitment would cost follows from it."""
    loc = problem.loc
    if not refused or len(loc) < 5 or loc[0] != "stages" or loc[2] != "serving" or loc[4] != "provisioned":
        return False
    stage = spec.stages.get(str(loc[1]))
    serving = stage.serving.get(str(loc[3])) if stage else None
    if serving is None or serving.provisioned is None:
        return False
    base = spec.served_base_model(str(loc[1]), serving)
    return base is not None and bool({(base, None), (base, serving.provisioned.commitment)} & refused)


def _without_what_follows(issues: Iterable[SpecIssue]) -> list[SpecIssue]:
    """Field problems without those that only follow from another: the pipeline's fields are
    required only when it is enabled, so with ``enabled`` refused, asking for them says nothing."""
    found = list(issues)
    if any(issue.path == "pipeline.enabled" for issue in found):
        found = [i for i in found if not (i.path.startswith("pipeline.") and i.message == "is required")]
    return found


# A stage's blocks of independent named entries: a failing entry is set aside alone, so the
# block's other entries are still checked and a reference to the failing one is not called missing.
_STAGE_ENTRIES = ("jobs", "serving", "promotions", *(to_camel(section.key) for section in stage_sections()))


def _set_aside(loc: Loc) -> tuple[str, Loc] | None:
    """How to check the rest of a spec despite a failing path: ("entry", path) removes a whole
    independent entry (a stage's job, serving entry, promotion or section entry such as an import,
    a dataset, a price, a stage); ("field", path) removes an optional field; ("account", path) and
    ("name", path) put a placeholder where a required value failed. None: nothing else can be checked."""
    if not loc:
        return None
    if loc[0] == "stages":
        if len(loc) < 2:
            return None
        if len(loc) >= 4 and loc[2] in _STAGE_ENTRIES:
            return ("entry", loc[:4])
        if len(loc) >= 3 and loc[2] == "account":
            return ("account", loc[:3])
        if len(loc) >= 3 and loc[2] != "region":
            return ("field", loc[:3])  # an optional field, or a jobs/serving/promotions block that is not a mapping
        return ("entry", loc[:2])  # the region drives every check of the stage
    if loc[0] == "prices" and len(loc) >= 3:
        return ("field", loc[:3])  # one term of a model's prices: the model's other terms still apply
    if loc[0] in ("datasets", "prices"):
        return ("entry", loc[:2]) if len(loc) >= 2 else ("field", loc[:1])
    if loc[0] == "name":
        return ("name", loc[:1])
    return ("field", loc[:1])  # every other top-level block is optional


def _without_failing_entries(data: dict[str, Any], error: ValidationError) -> tuple[EstateSpec | None, set[str]]:
    """The spec without what failed field validation, and the names of the entries set aside
    (their absence makes references to them fail, which is no news). None when the rest cannot
    be checked."""
    import copy

    doc = copy.deepcopy(data)
    removed: set[str] = set()
    placeholders = 0
    for _ in range(5):
        found = {_set_aside(tuple(p for p in err["loc"] if p != "[key]")) for err in error.errors()}
        actions = {action for action in found if action is not None}
        if len(actions) < len(found):  # a failure no entry can be set aside for
            return None, removed
        for kind, path in sorted(actions, key=lambda action: len(action[1]), reverse=True):
            parent: Any = doc
            for part in path[:-1]:
                parent = parent.get(part) if isinstance(parent, dict) else None
            if not isinstance(parent, dict):
                continue
            if kind == "name":
                parent["name"] = "estate"
            elif kind == "account":
                placeholders += 1
                parent["account"] = f"9{placeholders:011d}"
                removed.add(parent["account"])
            elif path[-1] in parent:
                del parent[path[-1]]
                if kind == "entry":
                    removed.add(str(path[-1]))
        try:
            return validate_fields(doc), removed
        except ValidationError as again:
            error = again
        except Exception:  # noqa: BLE001 - a document set aside into a shape the model cannot take
            return None, removed
    return None, removed


def _in_file_order(issues: list[SpecIssue]) -> list[SpecIssue]:
    """Problems of the whole file first, then by line; stable for problems on the same line."""
    return sorted(issues, key=lambda issue: issue.line or 0)


# libyaml's parser, which PyYAML's wheels include, reads a spec of 150 jobs six times faster than
# PyYAML's own. The two agree on a document except where libyaml is more lenient: tabs outside
# indentation and a byte-order mark past the start, which PyYAML refuses. Such a text, and any
# text libyaml refuses, is read by PyYAML's parser, so what is valid does not depend on whether
# libyaml is installed, and errors keep the wording the messages above were written against.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> yaml.Node | None:
    if "\t" not in text and "\ufeff" not in text[1:]:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except (yaml.YAMLError, UnicodeError):
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _read_document(text: str) -> tuple[Any, dict[Loc, int]]:
    """The document's data, and the line of every key and item in it: parsed once."""
    node = _compose(text)
    lines = _line_map(node)  # before constructing, which flattens merge keys in the node tree
    if node is None:
        return None, lines
    loader = _UniqueKeyLoader("")
    try:
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def _line_map(node: yaml.Node | None, loc: Loc = ()) -> dict[Loc, int]:
    """Line number (1-based) of every key and item in the document, by path."""
    if node is None:
        return {}
    lines = {loc: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*loc, str(key_node.value))
            lines.update(_line_map(value_node, child))
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(_line_map(item, (*loc, index)))
    return lines


def _line_for(loc: Loc, lines: dict[Loc, int]) -> int | None:
    # The deepest ancestor that exists in the file: a missing field points at its parent block.
    for end in range(len(loc), -1, -1):
        key = tuple(part if isinstance(part, int) else str(part) for part in loc[:end])
        if key in lines:
            return lines[key]
    return None


def _dotted(loc: Loc) -> str:
    """``stages.dev.region``; list items as ``[0]``, keys that are not plain words as ``["a b"]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# What a spec field's pattern asks for, in words (pydantic would print the regular expression).
_PATTERN_MEANING = {
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "an email address, e.g. ml-platform@example.com",
    r"^subnet-([0-9a-z]{8}|[0-9a-z]{17})$": (
        "a subnet id (subnet- and 8 or 17 lowercase letters and digits), e.g. subnet-0123456789abcdef0"
    ),
    r"^sg-([0-9a-z]{8}|[0-9a-z]{17})$": (
        "a security group id (sg- and 8 or 17 lowercase letters and digits), e.g. sg-0123456789abcdef0"
    ),
    r"^Builtin\.[A-Za-z]+$": "a built-in judge metric, e.g. Builtin.Correctness",
    ROLE_ARN_PATTERN: "an IAM role ARN, e.g. arn:aws:iam::111111111111:role/evaluation",
    r"^s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/.*)?$": "an S3 URI, e.g. s3://my-bucket/gate",
}


def _issue(error: Mapping[str, Any], lines: dict[Loc, int]) -> SpecIssue:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    given = error.get("input")
    ctx = error.get("ctx") or {}
    if loc and loc[-1] == "[key]":  # a mapping key failed (e.g. a stage name)
        loc = loc[:-1]
        if isinstance(given, Yaml11Boolean):
            message = _yaml_1_1_text(given)
        elif kind == "literal_error":  # a key of a fixed set (a price's term)
            from .suggest import closest

            allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            near = closest(str(given), allowed, 1)
            hint = f"; did you mean {near[0]!r}?" if near else ";"
            message = f"is not one of the keys allowed here{hint} Allowed: {', '.join(allowed)}"
        else:
            message = _clean_message(error)
        return SpecIssue(_dotted(loc), message, _line_for(loc, lines))
    if isinstance(given, Yaml11Boolean) and kind in ("bool_type", "bool_parsing"):
        message = (
            f"{given} is a boolean only in YAML 1.1; YAML 1.2, which editors checking the spec against "
            "estate.schema.json read, takes it as text: write true or false"
        )
        return SpecIssue(_dotted(loc), message, _line_for(loc, lines))
    if isinstance(given, Yaml11Boolean) and kind == "string_type":
        return SpecIssue(_dotted(loc), _yaml_1_1_text(given), _line_for(loc, lines))
    if isinstance(given, Yaml11Number) and kind != "value_error":  # a validator's own message stands
        message = yaml_number_problem(given, text_goes_here=kind == "string_type")
        return SpecIssue(_dotted(loc), message, _line_for(loc, lines))

    if kind == "extra_forbidden" or (kind == "invalid_key" and isinstance(given, Yaml11Boolean)):
        # No field of the spec is named y, n, on, off, yes or no: such a key is unknown, read either way.
        allowed = _allowed_fields(loc[:-1])
        hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        message = f"unknown field {str(loc[-1])!r}{hint}"
    elif kind == "missing":
        message = "is required"
    elif kind == "literal_error":
        message = f"{_short(given)} is not allowed; use one of {ctx.get('expected')}"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        message = f"must be a whole number, got {_short(given)}" + quotes_hint(given)
    elif kind in ("float_parsing", "float_type"):
        message = f"must be a number, got {_short(given)}" + quotes_hint(given)
    elif kind in ("bool_parsing", "bool_type"):
        message = f"must be true or false, got {_short(given)}"
    elif kind == "string_type":
        message = f"must be a string, got {_short(given)}"
        if isinstance(given, bool | int | float):
            # YAML reads yes/no/on/off and bare numbers as booleans and numbers, not text.
            message += "; put it in quotes to keep it as text"
    elif kind == "dict_type" and isinstance(given, list) and given and isinstance(given[0], dict) and given[0]:
        # "- dev:" where "dev:" goes: a list of one-key mappings written for a mapping.
        first = next(iter(given[0]))
        message = (
            f"must be a mapping of names to their settings, not a list: write '{first}:' without the '- ' in front"
        )
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        message = f"must be a mapping of keys to values, got {_short(given)}"
        if (
            len(loc) == 5
            and loc[0] == "stages"
            and loc[2] == "serving"
            and loc[4] == "model"
            and isinstance(given, str)
        ):
            message += f"; write {{job: {given}}} for a job of this stage, {{promotion: {given}}} for a promoted one, or {{arn: ...}}"
    elif kind in ("list_type", "tuple_type", "set_type"):
        message = f"must be a list (in YAML: [a, b], or one '- item' per line), got {_short(given)}"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = _bounds(loc)
        message = f"{_short(given)} is outside {bounds}" if bounds else _one_bound(kind, ctx, given)
    elif kind == "too_short" and loc == ("stages",):
        message = "needs at least one stage (name: {account, region})"
    elif kind == "too_short" and isinstance(ctx.get("min_length"), int):
        least = ctx["min_length"]
        message = f"must hold at least {least} item{'s' if least != 1 else ''}, got {_short(given)}"
    elif kind == "string_too_short":
        least = ctx.get("min_length")
        message = "must not be empty" if least == 1 else f"must be at least {least} characters"
    elif kind == "string_too_long":
        message = f"must be at most {ctx.get('max_length')} characters"
    elif kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        message = (
            f"{_short(given)} is not {_PATTERN_MEANING[pattern]}"
            if pattern in _PATTERN_MEANING
            else f"{_short(given)} does not match {pattern}"
        )
    else:
        message = _clean_message(error)
        if kind != "value_error" and given is not None:
            message += f" (got {_short(given)})"
    return SpecIssue(_dotted(loc), message, _line_for(loc, lines))


def _yaml_1_1_text(written: Yaml11Boolean) -> str:
    return f"{written} is a boolean in YAML 1.1 and text in YAML 1.2; put it in quotes ('{written}') to keep it as text"


def _stage_issues(problem: LocatedProblem, lines: dict[Loc, int]) -> list[SpecIssue]:
    if not problem.errors:
        return [SpecIssue(_dotted(problem.loc), problem.detail, _line_for(problem.loc, lines))]
    return [_issue({**err, "loc": (*problem.loc, *err["loc"])}, lines) for err in problem.errors]


def _dedupe(issues: list[SpecIssue]) -> list[SpecIssue]:
    seen: set[tuple[str, str]] = set()
    out = []
    for issue in issues:
        if (issue.path, issue.message) not in seen:
            seen.add((issue.path, issue.message))
            out.append(issue)
    return out


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The spec model class found at a path, following fields, mapping values and override blocks."""
    current: Any = EstateSpec
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _field_by_alias(current, str(part))
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _field_by_alias(model: type[BaseModel], alias: str) -> Any:
    for name, field in model.model_fields.items():
        if alias in (field.alias, name):
            return field
    return None


def _allowed_fields(loc: Loc) -> list[str]:
    model = _model_at(loc)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


_ONE_BOUND = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}


def _one_bound(kind: str, ctx: Mapping[str, Any], given: Any) -> str:
    """A number past the one bound pydantic names, with the value given."""
    key, words = _ONE_BOUND[kind]
    bound = ctx.get(key)
    shown = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
    return f"must be {words} {shown}, got {_short(given)}"


def _bounds(loc: Loc) -> str | None:
    model = _model_at(loc[:-1])
    field = _field_by_alias(model, str(loc[-1])) if model else None
    if field is None:
        return None
    low = next((getattr(m, "ge", None) for m in field.metadata if getattr(m, "ge", None) is not None), None)
    high = next((getattr(m, "le", None) for m in field.metadata if getattr(m, "le", None) is not None), None)
    if low is None or high is None:
        return None
    return f"{low}..{high}"
