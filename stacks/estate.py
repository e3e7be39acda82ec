"""The whole estate: one stage per spec stage, with the compliance packs over all of it."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Aspects, Environment

from constructs_lib.nag import add_nag_packs
from constructs_lib.pipeline_findings import AcknowledgePipelineFindings
from constructs_lib.spec import EstateSpec

from .estate_stage import EstateStage
from .pipeline_stack import PipelineStack, replication_stacks


def build_estate(app: App, spec: EstateSpec, base_dir: Path | None = None) -> list[EstateStage]:
    """One stage per spec stage. ``base_dir`` is where the spec's relative dataset paths start."""
    base_dir = base_dir or Path.cwd()
    stages = [EstateStage(app, settings, spec, base_dir) for settings in spec.stage_settings()]
    if spec.pipeline is not None and spec.pipeline.enabled:
        # CDK Pipelines adds cross-region support stacks at the app level: acknowledge there too.
        Aspects.of(app).add(AcknowledgePipelineFindings())
        PipelineStack(
            app,
            "Delivery",
            spec=spec,
            base_dir=base_dir,
            replication=replication_stacks(app, spec),
            env=Environment(account=spec.pipeline.account, region=spec.pipeline.region),
            stack_name=f"{spec.name}-delivery",
            description=f"bedrock-estate {spec.name}: delivery pipeline across the stages",
        )
    add_nag_packs(app)
    return stages
