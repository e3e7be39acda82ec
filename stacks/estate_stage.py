"""EstateStage: everything one stage (an account and region) deploys, as one cdk.Stage."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from constructs_lib.foundation.pull_request_diff_role import PullRequestDiffRoleProps
from constructs_lib.spec import EstateSpec, StageSettings
from constructs_lib.spec.sections import stage_sections
from estate_runtime.naming import pull_request_diff_role_name

from .customization_stack import CustomizationStack
from .foundation_stack import FoundationStack
from .serving_stack import ServingStack


def pull_request_diff(spec: EstateSpec, stage: StageSettings) -> PullRequestDiffRoleProps | None:
    """The pull-request diff role, when the spec asks for it, in the first stage of each account
    (an IAM role is global to its account): it reads through the lookup role of every region the
    account's stages use."""
    pipeline = spec.pipeline
    if pipeline is None or not pipeline.pull_request_diff_role:
        return None
    same_account = [(name, s.region) for name, s in spec.stages.items() if s.account == stage.account]
    if same_account[0][0] != stage.name:
        return None
    return PullRequestDiffRoleProps(
        role_name=pull_request_diff_role_name(spec.name),
        repository=pipeline.repository,
        base_branch=pipeline.branch,
        lookup_regions=tuple(region for _, region in same_account),
    )


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
            promoted_to=settings.key_promoted_to_accounts,
            pull_request_diff=pull_request_diff(spec, settings),
            stack_name=settings.names.stack("foundation"),
            description=f"bedrock-estate {settings.qualifier}: keys, buckets, service role, invocation logging",
            termination_protection=settings.protected,
        )

        self.customization: CustomizationStack | None = None
        sections_held = [section.holds for section in stage_sections() if section.entries(settings)]
        if settings.jobs or sections_held:
            self.customization = CustomizationStack(
                self,
                "Customization",
                stage=settings,
                spec=spec,
                foundation=self.foundation,
                stack_name=settings.names.stack("customization"),
                description=f"bedrock-estate {settings.qualifier}: "
                + ", ".join(
                    (["datasets, customization jobs, job notifications"] if settings.jobs else []) + sections_held
                ),
                termination_protection=settings.protected,
            )

        self.serving: ServingStack | None = None
        gate = spec.stages[settings.name].gate
        # A gate that measures only imports or open-weight jobs still needs its role, which lives in
        # the serving stack; the role is the pipeline's (by hand, the gate runs with your credentials).
        gate_role = gate is not None and bool(gate.imports or gate.open_weight) and spec.pipeline is not None
        if settings.serving or settings.promotions or promoted_to or gate_role:
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
