"""What the two serving kinds (provisioned throughput, custom model deployment) share."""

from __future__ import annotations

from dataclasses import dataclass

from ..base import Attributes, JobNameParts, Properties, attr, prop

# Inside the provider's one-hour waiter: wait for training at most this long, then the rest for
# the throughput or deployment to start serving.
MODEL_WAIT_SECONDS = 20 * 60  # for training, or for a created model still Creating
SERVE_WAIT_SECONDS = 55 * 60

SERVING_OPERATIONS = (
    "get_custom_model",
    "get_model_customization_job",
    "get_foundation_model",  # the served model's base model lifecycle, before creating
    "tag_resource",
    "untag_resource",
    "list_tags_for_resource",  # an adopted resource's owner tag, before taking it over
)


@dataclass(frozen=True, kw_only=True)
class ServingAttributes(Attributes):
    arn: str | None = attr("Arn")
    """The provisioned throughput's or the deployment's ARN: what applications invoke."""
    model_arn: str | None = attr("ModelArn")
    """The custom model served."""
    model_lifecycle: str | None = attr("ModelLifecycle")
    """The served model's base model lifecycle, when Bedrock answered it."""


@dataclass(frozen=True, kw_only=True)
class ServedModelSource(Properties):
    """The model served: an existing custom model, the one a declared job trains, or a custom model
    the estate creates under a name of its own (a Nova model trained in SageMaker AI)."""

    model_arn: str | None = prop("ModelArn", None)
    job_name_parts: JobNameParts | None = prop("JobNameParts", None)
    custom_model_name_parts: JobNameParts | None = prop("CustomModelNameParts", None)
    """The names of a custom model the estate creates (``name``, ``name-r2``, ...): the first attempt
    that did not fail is served, once Active."""


@dataclass(frozen=True, kw_only=True)
class AdoptedServing(Properties):
    """A throughput or deployment made outside the estate, which the resource takes over instead of
    creating one: verified against the properties, then tagged with them (the owner tag among them)."""

    arn: str = prop("Arn")
    """Its ARN, also the resource's physical id."""
    spec_path: str = prop("SpecPath")
    """The spec entry that declares it (``stages.dev.serving.chat``), named by every refusal."""


@dataclass(frozen=True, kw_only=True)
class ServingProperties(Properties):
    name: str = prop("Name")
    """Bedrock name of the throughput or deployment, also its physical id."""
    client_request_token: str = prop("ClientRequestToken")
    model: ServedModelSource = prop("Model")
    tags: list[dict[str, str]] | None = prop("Tags", None)
    model_wait_seconds: int = prop("ModelWaitSeconds", MODEL_WAIT_SECONDS)
    """How long a poll waits for the job's model before failing."""
    serve_wait_seconds: int = prop("ServeWaitSeconds", SERVE_WAIT_SECONDS)
    """How long it waits for the resource to serve before removing it and failing."""
    adopt: AdoptedServing | None = prop("Adopt", None)
    """Take over this existing throughput or deployment instead of creating one."""
