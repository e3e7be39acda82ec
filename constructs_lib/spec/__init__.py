"""The estate spec: typed model, YAML loader with path-named errors, and JSON Schema export."""

from .errors import SpecError, SpecIssue
from .loader import load_spec, load_stage_or_report, parse_spec
from .model import (
    DataDelivery,
    EstateSpec,
    InvocationLogging,
    Retention,
    Stage,
    StageSettings,
)
from .schema import json_schema

__all__ = [
    "DataDelivery",
    "EstateSpec",
    "InvocationLogging",
    "Retention",
    "SpecError",
    "SpecIssue",
    "Stage",
    "StageSettings",
    "json_schema",
    "load_spec",
    "load_stage_or_report",
    "parse_spec",
]
