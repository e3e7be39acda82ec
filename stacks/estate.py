"""The whole estate: one stage per spec stage, with the compliance packs over all of it."""

from __future__ import annotations

from aws_cdk import App

from constructs_lib.nag import add_nag_packs
from constructs_lib.spec import EstateSpec

from .estate_stage import EstateStage


def build_estate(app: App, spec: EstateSpec) -> list[EstateStage]:
    stages = [EstateStage(app, settings) for settings in spec.stage_settings()]
    add_nag_packs(app)
    return stages
