"""Load an estate spec from YAML and turn every mistake into a line-numbered, path-named message."""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import SpecError, SpecIssue
from .model import EstateSpec, StageFieldError, _clean_message

Loc = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(str(key), line, seen[key])
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, first_line: int):
        self.key, self.line, self.first_line = key, line, first_line


def load_spec(path: str | Path) -> EstateSpec:
    """Read and validate a spec file. Raises :class:`SpecError` listing every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), [SpecIssue("", "file not found; pass an existing spec with -c estate=PATH")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), [SpecIssue("", f"cannot read the file: {exc}")]) from None
    return parse_spec(text, source=str(path), base_dir=path.parent)


def parse_spec(text: str, source: str = "<spec>", base_dir: Path | None = None) -> EstateSpec:
    """Validate spec text. Raises :class:`SpecError` listing every problem found."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        lines = _line_map(yaml.compose(text, Loader=yaml.SafeLoader))
    except _DuplicateKey as dup:
        raise SpecError(
            source,
            [SpecIssue(dup.key, f"duplicate key (first defined on line {dup.first_line}); keep one", dup.line)],
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise SpecError(source, [SpecIssue("", f"not valid YAML: {problem}", line)]) from None

    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(source, [SpecIssue("", f"the spec must be a mapping with name and stages; this file is {kind}")])

    try:
        spec = EstateSpec.model_validate(data)
    except ValidationError as exc:
        issues = [_issue(err, lines) for err in exc.errors()]
        raise SpecError(source, _dedupe(issues)) from None

    problems = spec.cross_check(base_dir)
    if problems:
        raise SpecError(source, _dedupe([issue for p in problems for issue in _stage_issues(p, lines)]))
    # Legacy models pass, but never silently: one line per finding, named like an error.
    for kind, problem in spec.lifecycle_findings():
        if kind == "warning":
            for issue in _stage_issues(problem, lines):
                print(f"warning: {issue.render(source)}", file=sys.stderr)
    return spec


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
        key = tuple(str(part) if isinstance(part, str) else part for part in loc[:end])
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


def _issue(error: dict[str, Any], lines: dict[Loc, int]) -> SpecIssue:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    given = error.get("input")
    ctx = error.get("ctx") or {}
    if loc and loc[-1] == "[key]":  # a mapping key failed (e.g. a stage name)
        loc = loc[:-1]
        return SpecIssue(_dotted(loc), _clean_message(error), _line_for(loc, lines))

    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc[:-1])
        hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        message = f"unknown field {str(loc[-1])!r}{hint}"
    elif kind == "missing":
        message = "is required"
    elif kind == "literal_error":
        message = f"{_short(given)} is not allowed; use one of {ctx.get('expected')}"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        message = f"must be a whole number, got {_short(given)}"
    elif kind in ("bool_parsing", "bool_type"):
        message = f"must be true or false, got {_short(given)}"
    elif kind == "string_type":
        message = f"must be a string, got {_short(given)}"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        message = f"must be a mapping of keys to values, got {_short(given)}"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = _bounds(loc)
        message = f"{_short(given)} is outside {bounds}" if bounds else _clean_message(error)
    elif kind == "too_short" and loc == ("stages",):
        message = "needs at least one stage (name: {account, region})"
    elif kind == "string_too_long":
        message = f"must be at most {ctx.get('max_length')} characters"
    else:
        message = _clean_message(error)
        if kind != "value_error" and given is not None:
            message += f" (got {_short(given)})"
    return SpecIssue(_dotted(loc), message, _line_for(loc, lines))


def _stage_issues(problem: StageFieldError, lines: dict[Loc, int]) -> list[SpecIssue]:
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
