"""EstateStage: everything one stage (an account and region) deploys, as one cdk.Stage."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from constructs_lib.spec import EstateSpec, StageSettings

from .customization_stack import CustomizationStack
from .foundation_stack import FoundationStack
from .serving_stack import ServingStack


class EstateStage(Stage):
    """Deployable on its own: ``cdk deploy '<stage>/*'``."""

    def __init__(self, scope: Construct, settings: StageSettings, spec: EstateSpec, base_dir: Path) -> None:
        super().__init__(scope, settings.name, env=Environment(account=settings.account, region=settings.region))
        if settings.base_dir != base_dir:
            # Job names hash the dataset files: resolved once here, for every stack of the stage.
            settings = spec.stage(settings.name, base_dir)
        self.settings = settings
        for key, value in settings.tags.items():
            Tags.of(self).add(key, value)
        Tags.of(self).add("estate-stage", settings.name)

        promoted_to = settings.promoted_to_accounts
        self.foundation = FoundationStack(
            self,
            "Foundation",
            stage=settings,
            emails=list(spec.notifications.emails),
            promoted_to=promoted_to,
            stack_name=settings.names.stack("foundation"),
            description=f"bedrock-estate {settings.qualifier}: keys, buckets, service role, invocation logging",
            termination_protection=settings.protected,
        )

        self.customization: CustomizationStack | None = None
        if settings.jobs or settings.imports:
            self.customization = CustomizationStack(
                self,
                "Customization",
                stage=settings,
                spec=spec,
                foundation=self.foundation,
                stack_name=settings.names.stack("customization"),
                description=f"bedrock-estate {settings.qualifier}: "
                + ", ".join(
                    (["datasets, customization jobs, job notifications"] if settings.jobs else [])
                    + (["imported models"] if settings.imports else [])
                ),
                termination_protection=settings.protected,
            )

        self.serving: ServingStack | None = None
        if settings.serving or settings.promotions or promoted_to:
            self.serving = ServingStack(
                self,
                "Serving",
                stage=settings,
                spec=spec,
                foundation=self.foundation,
                customization=self.customization,
                stack_name=settings.names.stack("serving"),
                description=f"bedrock-estate {settings.qualifier}: model promotion, served custom models and their monitoring",
                termination_protection=settings.protected,
            )
