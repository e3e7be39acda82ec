"""JSON Schema of the estate spec, for editors (``# yaml-language-server: $schema=...``)."""

from __future__ import annotations

import json
from typing import Any

from .model import EstateSpec


def json_schema() -> dict[str, Any]:
    schema = EstateSpec.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **_named_keys(schema)}


def _named_keys(node: Any) -> Any:
    """pydantic writes a mapping whose keys have a pattern (stage, job, dataset names) as
    ``patternProperties``, which lets any other key through; the loader refuses those keys, so
    the schema names the pattern every key must match instead."""
    if isinstance(node, list):
        return [_named_keys(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _named_keys(value) for key, value in node.items()}
    patterns = out.get("patternProperties")
    if (
        isinstance(patterns, dict)
        and len(patterns) == 1
        and "additionalProperties" not in out
        and "properties" not in out
    ):
        [(pattern, value)] = patterns.items()
        del out["patternProperties"]
        out["propertyNames"] = {"pattern": pattern}
        out["additionalProperties"] = value
    return out


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
