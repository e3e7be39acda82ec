"""Lambda entry points. Each provider's function serves the resource types in ESTATE_RESOURCE_TYPES.

Handlers are imported lazily, so a function only loads the code of the types it serves.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from . import kinds
from .core import Dispatcher, HandlerFactory

# Resource type -> "module:class" of its handler, relative to this package (each kind names its own).
REGISTRY: dict[str, str] = {kind.type_name: kind.handler for kind in kinds.ALL}


def load_handlers(types: list[str]) -> dict[str, HandlerFactory]:
    handlers: dict[str, HandlerFactory] = {}
    for resource_type in types:
        module_name, class_name = REGISTRY[resource_type].split(":")
        handlers[resource_type] = getattr(importlib.import_module(module_name, __package__), class_name)
    return handlers


def _dispatcher() -> Dispatcher:
    served = [t for t in os.environ.get("ESTATE_RESOURCE_TYPES", "").split(",") if t]
    return Dispatcher(load_handlers(served))


_DISPATCHER: Dispatcher | None = None


def _get() -> Dispatcher:
    global _DISPATCHER
    if _DISPATCHER is None:
        _DISPATCHER = _dispatcher()
    return _DISPATCHER


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _get().on_event(event, context)


def is_complete(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _get().is_complete(event, context)
