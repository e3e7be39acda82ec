"""The whole estate: one stage per spec stage, with the compliance packs over all of it."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App

from constructs_lib.nag import add_nag_packs
from constructs_lib.spec import EstateSpec

from .estate_stage import EstateStage


def build_estate(app: App, spec: EstateSpec, base_dir: Path | None = None) -> list[EstateStage]:
    """One stage per spec stage. ``base_dir`` is where the spec's relative dataset paths start."""
    base_dir = base_dir or Path.cwd()
    stages = [EstateStage(app, settings, spec, base_dir) for settings in spec.stage_settings()]
    add_nag_packs(app)
    return stages
