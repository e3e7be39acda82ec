"""Problems a construct finds in its props are refused when the construct is made: one
``EstateConstructError`` naming the construct's path, the prop and the fix. Raised from Python,
it reaches a CDK user as the one message it is, not wrapped in the JavaScript error a validation
failing at synthesis becomes."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from constructs import IConstruct


class EstateConstructError(ValueError):
    """A construct's props cannot work. ``str()`` is one line per problem: ``<construct path>: <prop>:
    <what is wrong and what to do>``. ``path`` and ``problems`` keep the parts."""

    def __init__(self, path: str, problems: Sequence[tuple[str, str]]):
        self.path = path
        self.problems = list(problems)
        super().__init__("\n".join(f"{path}: {prop}: {message}" for prop, message in self.problems))


def refuse(construct: IConstruct, problems: Sequence[tuple[str, str]]) -> None:
    """Raise every (prop, message) of ``problems`` as one EstateConstructError at ``construct``'s path."""
    if problems:
        raise EstateConstructError(construct.node.path, problems)


def check_prop_types(construct: IConstruct, props: Any) -> None:
    """Refuse props whose values are not of their annotated types, before the construct reads them:
    a ``"1"`` for an ``int`` would otherwise surface as a TypeError from inside the construct, and a
    string for a role or key as a JavaScript error. Checked: plain Python types (``str``, ``int``,
    ``float``, ``bool``, literals, mappings, sequences, the library's own classes, with ``None`` where
    the annotation allows it); a CDK type (a role, a key) only as "not a plain Python value", since
    a CDK interface cannot be checked with ``isinstance``."""
    hints = _hints(type(props))
    problems = []
    for field in dataclasses.fields(props):
        problem = _type_problem(hints[field.name], getattr(props, field.name))
        if problem is not None:
            problems.append((field.name, problem))
    refuse(construct, problems)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(props_type: type) -> dict[str, Any]:
    """The props class's annotations, resolved once per class."""
    if props_type not in _HINTS:
        _HINTS[props_type] = typing.get_type_hints(props_type)
    return _HINTS[props_type]


_PLAIN = (str, int, float, bool, dict, list, tuple, set, type(None))


def _type_problem(expected: Any, value: Any) -> str | None:
    """Why ``value`` is not of the ``expected`` annotation, or None."""
    wanted = _wanted(expected, value)
    if wanted is None:
        return None
    return f"must be {wanted}, got {_shown(value)}"


def _wanted(expected: Any, value: Any) -> str | None:
    """What ``expected`` asks for in words, when ``value`` is not of it; None when it is."""
    origin = typing.get_origin(expected)
    if expected is Any:
        return None
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(expected) if m is not type(None)]
        if value is None and len(members) < len(typing.get_args(expected)):
            return None
        wants = [_wanted(member, value) for member in members]
        if any(want is None for want in wants):
            return None
        return " or ".join(str(want) for want in wants)
    if origin is typing.Literal:
        allowed = typing.get_args(expected)
        return None if value in allowed else f"one of {', '.join(repr(a) for a in allowed)}"
    if origin is not None:
        expected = origin  # list[str] -> list, Mapping[str, str] -> Mapping: the container, not its items
    if expected is bool:
        return None if isinstance(value, bool) else "True or False"
    if expected is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "a whole number (int)"
    if expected is float:
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "a number"
    if expected is str:
        return None if isinstance(value, str) else "a str"
    if expected is Path:
        return None if isinstance(value, str | PathLike) else "a path (pathlib.Path or str)"
    if expected in (dict, Mapping):
        return None if isinstance(value, Mapping) else f"a {expected.__name__}"
    if expected in (list, Sequence):
        return None if isinstance(value, list | tuple) else f"a {expected.__name__}"
    if not isinstance(expected, type):
        return None
    if expected.__module__.startswith("aws_cdk"):
        # A CDK interface or class: a proxy of a construct made in JavaScript is no Python subclass.
        module = expected.__module__.rsplit(".", 1)[-1].removeprefix("aws_")
        name = f"{module}.{expected.__name__}" if module != "aws_cdk" else expected.__name__
        return None if not isinstance(value, _PLAIN) else f"{_article(name)} {name}"
    return None if isinstance(value, expected) else f"{_article(expected.__name__)} {expected.__name__}"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _shown(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    kind = type(value).__name__
    return f"{text} ({_article(kind)} {kind})"
