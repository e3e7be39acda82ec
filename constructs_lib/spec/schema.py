"""JSON Schema of the estate spec, for editors (``# yaml-language-server: $schema=...``)."""

from __future__ import annotations

import json
from typing import Any

from .model import EstateSpec


def json_schema() -> dict[str, Any]:
    schema = EstateSpec.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
