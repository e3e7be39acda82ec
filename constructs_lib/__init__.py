"""bedrock-estate constructs: reusable L3 constructs for an Amazon Bedrock customization estate.

Use them in any CDK app; the estate's own stacks (``stacks/``) are one composition of them.
Constructs load lazily, so the spec, plan and command-line tools start without the CDK.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CommitmentAcknowledgement": "serving.served_model",
    "CustomizationJob": "customization.customization_job",
    "CustomizationJobProps": "customization.customization_job",
    "CustomizationServiceRole": "foundation.customization_role",
    "CustomizationServiceRoleProps": "foundation.customization_role",
    "EstateDataset": "customization.estate_dataset",
    "EstateDatasetProps": "customization.estate_dataset",
    "EstateKey": "foundation.estate_key",
    "EstateKeyProps": "foundation.estate_key",
    "EstateProvider": "machinery.resource_provider",
    "InvocationLogging": "invocation_logging.invocation_logging",
    "InvocationLoggingProps": "invocation_logging.invocation_logging",
    "GateRole": "serving.gate_role",
    "GateRoleProps": "serving.gate_role",
    "JobNames": "customization.customization_job",
    "KindGrants": "machinery.resource_provider",
    "ModelCopy": "promotion.model_copy",
    "ModelCopyProps": "promotion.model_copy",
    "ModelShare": "promotion.model_share",
    "ModelShareProps": "promotion.model_share",
    "MonitoredModel": "serving.serving_monitoring",
    "NotificationTopic": "foundation.notification_topic",
    "NotificationTopicProps": "foundation.notification_topic",
    "ProviderLogging": "machinery.resource_provider",
    "RftGrader": "customization.rft_grader",
    "RftGraderProps": "customization.rft_grader",
    "SecureBucket": "foundation.secure_bucket",
    "SecureBucketProps": "foundation.secure_bucket",
    "ServedModel": "serving.served_model",
    "ServedModelProps": "serving.served_model",
    "ServingMonitoring": "serving.serving_monitoring",
    "ServingMonitoringProps": "serving.serving_monitoring",
    "acknowledge": "compliance.nag",
    "add_nag_packs": "compliance.nag",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
