"""The whole estate: one stage per spec stage, with the compliance packs over all of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from aws_cdk import App, Aspects, Environment

from constructs_lib.nag import add_nag_packs
from constructs_lib.pipeline_findings import AcknowledgePipelineFindings
from constructs_lib.spec import EstateSpec

from .estate_stage import EstateStage
from .pipeline_stack import PipelineStack, replication_stacks

Build = Literal["all", "stages", "pipeline"]
BUILDS: tuple[Build, ...] = ("all", "stages", "pipeline")
"""What an app builds (cdk.json / ``-c estate:build=...``): the standalone stages (``cdk deploy
'dev/*'``, ``cdk diff`` in pull requests), the delivery pipeline with its own copy of every stage
(the pipeline's synth step, ``cdk deploy Delivery``), or both (``make synth``, the tests). Each
stage is built twice only when both are asked for."""

StageExtension = Callable[[EstateStage], None]
"""Your own additions to every stage (``build_estate(..., extend=...)``): called once for each
stage the app builds, the standalone one and the pipeline's copy alike, after the estate's stacks
exist, so what you add (a role granted invoke on ``stage.serving.models[...]``, an alarm, a tag)
deploys the same way through ``cdk deploy 'dev/*'`` and through the pipeline."""


def build_estate(
    app: App, spec: EstateSpec, base_dir: Path | None = None, build: Build = "all", extend: StageExtension | None = None
) -> list[EstateStage]:
    """One stage per spec stage, and the pipeline, as ``build`` asks. ``base_dir`` is where the
    spec's relative dataset paths start; ``extend`` adds your own constructs to every stage."""
    if build not in BUILDS:
        raise ValueError(f"estate:build must be one of {', '.join(BUILDS)}, not {build!r}")
    base_dir = base_dir or Path.cwd()
    stages = [EstateStage(app, settings, spec, base_dir) for settings in spec.stage_settings(base_dir)] if build != "pipeline" else []
    for stage in stages:
        if extend is not None:
            extend(stage)
    if spec.pipeline is not None and spec.pipeline.enabled and build != "stages":
        # CDK Pipelines adds cross-region support stacks at the app level: acknowledge there too.
        Aspects.of(app).add(AcknowledgePipelineFindings())
        PipelineStack(
            app,
            "Delivery",
            spec=spec,
            base_dir=base_dir,
            replication=replication_stacks(app, spec),
            extend=extend,
            env=Environment(account=spec.pipeline.account, region=spec.pipeline.region),
            stack_name=f"{spec.name}-delivery",
            description=f"bedrock-estate {spec.name}: delivery pipeline across the stages",
        )
    add_nag_packs(app)
    return stages
