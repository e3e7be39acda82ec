"""The whole estate: one stage per spec stage, with the compliance packs over all of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from aws_cdk import App, Environment

from constructs_lib.compliance.nag import add_nag_packs
from constructs_lib.spec import EstateSpec

from .estate_stage import EstateStage

Build = Literal["all", "stages"]
BUILDS: tuple[Build, ...] = ("all", "stages")
"""What an app builds (cdk.json / ``-c estate:build=...``): the stages and the delivery pipeline
(``make synth``, the tests, the pipeline's own synth step, ``cdk deploy``), or the stages alone
(``cdk diff`` in pull requests). Each stage is built once: the pipeline deploys the very stages
``cdk deploy '<stage>/*'`` deploys, not a copy of its own."""

StageExtension = Callable[[EstateStage], None]
"""Your own additions to every stage (``build_estate(..., extend=...)``): called once for each
stage, after the estate's stacks exist, so what you add (a role granted invoke on
``stage.serving.models[...]``, an alarm, a tag) deploys the same way through ``cdk deploy 'dev/*'``
and through the pipeline, which deploys the same stages."""


def build_estate(
    app: App, spec: EstateSpec, base_dir: Path | None = None, build: Build = "all", extend: StageExtension | None = None
) -> list[EstateStage]:
    """One stage per spec stage, and the pipeline unless ``build`` is ``stages``. ``base_dir`` is
    where the spec's relative dataset paths start; ``extend`` adds your own constructs to every stage."""
    if build not in BUILDS:
        raise ValueError(f"estate:build must be one of {', '.join(BUILDS)}, not {build!r}")
    base_dir = base_dir or Path.cwd()
    stages = [EstateStage(app, settings, spec, base_dir) for settings in spec.stage_settings(base_dir)]
    for stage in stages:
        if extend is not None:
            extend(stage)
    if spec.pipeline is not None and build == "all":
        # Imported here: an estate without a pipeline never loads CDK Pipelines and CodeBuild.
        from constructs_lib.compliance.pipeline_findings import acknowledge_pipeline_findings

        from .pipeline_stack import PipelineStack, replication_stacks

        pipeline = PipelineStack(
            app,
            "Delivery",
            spec=spec,
            base_dir=base_dir,
            stages={stage.settings.name: stage for stage in stages},
            replication=replication_stacks(app, spec, [stage.settings for stage in stages]),
            env=Environment(account=spec.pipeline.account, region=spec.pipeline.region),
            stack_name=f"{spec.name}-delivery",
            description=f"bedrock-estate {spec.name}: delivery pipeline across the stages",
        )
        # After the pipeline is built: its stack and the cross-region support stacks it added to the app.
        acknowledge_pipeline_findings(app, pipeline)
    add_nag_packs(app)
    return stages
