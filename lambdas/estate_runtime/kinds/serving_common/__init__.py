"""What the two serving kinds (provisioned throughput, custom model deployment) share.

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from .contract import (
    MODEL_WAIT_SECONDS,
    SERVE_WAIT_SECONDS,
    SERVING_OPERATIONS,
    AdoptedServing,
    ServedModelSource,
    ServingAttributes,
    ServingProperties,
)

__all__ = [
    "MODEL_WAIT_SECONDS",
    "SERVE_WAIT_SECONDS",
    "SERVING_OPERATIONS",
    "AdoptedServing",
    "ServedModelSource",
    "ServingAttributes",
    "ServingProperties",
]
