"""EstateStage: everything one stage (an account and region) deploys, as one cdk.Stage."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from constructs_lib.spec import StageSettings

from .foundation_stack import FoundationStack


class EstateStage(Stage):
    """Deployable on its own: ``cdk deploy '<stage>/*'``."""

    def __init__(self, scope: Construct, settings: StageSettings) -> None:
        super().__init__(scope, settings.name, env=Environment(account=settings.account, region=settings.region))
        self.settings = settings
        for key, value in settings.tags.items():
            Tags.of(self).add(key, value)
        Tags.of(self).add("estate-stage", settings.name)

        self.foundation = FoundationStack(
            self,
            "Foundation",
            stage=settings,
            stack_name=f"{settings.qualifier}-foundation",
            description=f"bedrock-estate {settings.qualifier}: keys, buckets, service role, invocation logging",
            termination_protection=settings.protected,
        )
