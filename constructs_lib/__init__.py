"""bedrock-estate constructs: reusable L3 constructs for an Amazon Bedrock customization estate.

Use them in any CDK app; the estate's own stacks (``stacks/``) are one composition of them.
Constructs load lazily, so the spec, plan and command-line tools start without the CDK.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CustomizationServiceRole": "customization_role",
    "CustomizationServiceRoleProps": "customization_role",
    "EstateKey": "estate_key",
    "EstateKeyProps": "estate_key",
    "EstateProvider": "resource_provider",
    "EstateProviderProps": "resource_provider",
    "InvocationLogging": "invocation_logging",
    "InvocationLoggingProps": "invocation_logging",
    "SecureBucket": "secure_bucket",
    "SecureBucketProps": "secure_bucket",
    "acknowledge": "nag",
    "add_nag_packs": "nag",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
