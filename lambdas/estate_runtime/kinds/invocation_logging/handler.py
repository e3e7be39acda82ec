"""``Custom::BedrockInvocationLogging``: the account/region model invocation logging configuration.

Bedrock keeps one configuration per account and region, so this resource is a singleton that must
not fight over it:

- Create refuses to overwrite a configuration someone else set, unless ``AdoptExisting`` is true.
  A configuration equal to ours (a retried or duplicated Create) is ours.
- Update writes the new configuration. A configuration changed out of band since our last write is
  overwritten (the estate owns it) and the drift is logged.
- Delete removes the configuration only while it is still the one this resource wrote; anything
  else is left in place and logged.
- Put is retried while IAM propagates ("Failed to validate permissions ..." right after the
  delivery role or bucket policy is created).
"""

from __future__ import annotations

from typing import Any

from ...core import Outcome, Request, ResourceHandler, as_bool
from ...errors import EstateError, is_iam_propagation
from ...log import get_logger
from . import contract
from .contract import KIND, InvocationLoggingAttributes

log = get_logger()

RESOURCE_TYPE = KIND.type_name

DELIVERY_FLAGS = tuple(contract.DELIVERY_FLAGS.values())


def normalize(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A canonical form of a LoggingConfig, so ours and the service's copy compare equal.

    Booleans arrive as strings from CloudFormation and may be absent in the service's answer
    (absent means false); empty key prefixes are the same as none.
    """
    if not config:
        return None
    out: dict[str, Any] = {flag: as_bool(config.get(flag, False)) for flag in DELIVERY_FLAGS}
    s3 = config.get("s3Config")
    if s3:
        out["s3Config"] = _s3(s3)
    cloud_watch = config.get("cloudWatchConfig")
    if cloud_watch:
        cw: dict[str, Any] = {"logGroupName": cloud_watch["logGroupName"], "roleArn": cloud_watch["roleArn"]}
        if cloud_watch.get("largeDataDeliveryS3Config"):
            cw["largeDataDeliveryS3Config"] = _s3(cloud_watch["largeDataDeliveryS3Config"])
        out["cloudWatchConfig"] = cw
    return out


def _s3(config: dict[str, Any]) -> dict[str, Any]:
    out = {"bucketName": config["bucketName"]}
    if config.get("keyPrefix"):
        out["keyPrefix"] = config["keyPrefix"]
    return out


def summarize(config: dict[str, Any]) -> str:
    """Where a configuration delivers, for messages: 's3://bucket/prefix, CloudWatch log group X'."""
    parts = []
    if "s3Config" in config:
        s3 = config["s3Config"]
        parts.append(f"s3://{s3['bucketName']}/{s3.get('keyPrefix', '')}")
    if "cloudWatchConfig" in config:
        parts.append(f"CloudWatch log group {config['cloudWatchConfig']['logGroupName']}")
    return ", ".join(parts) or "no destination"


class InvocationLoggingHandler(ResourceHandler):
    kind = KIND

    # -- service calls ---------------------------------------------------------------------------
    def _current(self) -> dict[str, Any] | None:
        answer = self.aws.call("bedrock", "get_model_invocation_logging_configuration")
        return normalize(answer.get("loggingConfig"))

    def _put(self, config: dict[str, Any]) -> None:
        self.aws.call(
            "bedrock",
            "put_model_invocation_logging_configuration",
            retry_if=is_iam_propagation,
            loggingConfig=config,
        )

    # -- lifecycle -------------------------------------------------------------------------------
    @staticmethod
    def _physical_id(request: Request) -> str:
        # One configuration per account and region: the id says which one this resource owns.
        return f"{request.account}:{request.region}:model-invocation-logging"

    @staticmethod
    def _desired(properties: Any) -> dict[str, Any]:
        config = normalize(KIND.parse(properties).logging_config)
        if not config or not ("s3Config" in config or "cloudWatchConfig" in config):
            raise EstateError("LoggingConfig needs an s3Config or a cloudWatchConfig")
        return config

    def _outcome(self, request: Request, config: dict[str, Any]) -> Outcome:
        return Outcome(
            self._physical_id(request),
            InvocationLoggingAttributes(
                log_group_name=config.get("cloudWatchConfig", {}).get("logGroupName"),
                bucket_name=config.get("s3Config", {}).get("bucketName"),
            ),
        )

    def create(self, request: Request) -> Outcome:
        desired = self._desired(request.properties)
        current = self._current()
        adopt = KIND.parse(request.properties).adopt_existing
        if current is not None and current != desired:
            if not adopt:
                raise EstateError(
                    f"Bedrock model invocation logging in account {request.account}, region {request.region} "
                    f"is already configured (delivering to {summarize(current)}) and this estate did not "
                    "set it. Nothing was changed. To let the estate take it over, set "
                    "invocationLogging.adoptExisting: true for this stage; to keep it as it is, set "
                    "invocationLogging.enabled: false."
                )
            log.warning("adopting existing configuration", extra={"previous": current})
        self._put(desired)
        return self._outcome(request, desired)

    def update(self, request: Request) -> Outcome:
        desired = self._desired(request.properties)
        previous = normalize(KIND.parse(request.old_properties).logging_config) if request.old_properties else None
        current = self._current()
        if current is not None and current not in (previous, desired):
            log.warning(
                "overwriting a configuration changed outside the estate",
                extra={"found": current, "last_written": previous},
            )
        self._put(desired)
        return self._outcome(request, desired)

    def delete(self, request: Request) -> Outcome:
        physical_id = request.physical_id or self._physical_id(request)
        ours = normalize(KIND.parse(request.properties).logging_config)
        current = self._current()
        if current is None:
            log.info("no configuration to delete")
        elif current != ours:
            log.warning(
                "configuration was changed after this estate wrote it; leaving it in place",
                extra={"found": current, "last_written": ours},
            )
        else:
            self.aws.call("bedrock", "delete_model_invocation_logging_configuration")
        return Outcome(physical_id)
