"""A kind's stage section (``constructs_lib.spec.sections``) reaches the estate's stacks through
one builder each: the customization stack composes every section it has a builder for, and
refuses a stage whose entries it could not build rather than dropping them."""

from __future__ import annotations

import pytest
from aws_cdk import App

from constructs_lib.spec import load_spec
from constructs_lib.spec.sections import stage_sections
from stacks import customization_stack
from stacks.estate_stage import EstateStage

from ..conftest import ROOT, cdk_context

IMPORT_DIR = ROOT / "tests" / "fixtures" / "imports"


def test_every_stage_section_has_its_builder_in_the_stack():
    assert set(customization_stack.SECTION_BUILDERS) == {section.key for section in stage_sections()}


def _import_stage(app: App) -> EstateStage:
    spec = load_spec(IMPORT_DIR / "estate.yaml")
    return EstateStage(app, spec.stage("dev", IMPORT_DIR), spec, IMPORT_DIR)


def test_a_stage_with_section_entries_only_gets_the_stack_described_by_them():
    stage = _import_stage(App(context=cdk_context()))
    assert stage.customization is not None
    assert stage.customization.template_options.description == "bedrock-estate import-estate-dev: imported models"
    assert set(stage.customization.sections["imports"]) == {"support-llama", "coder-qwen"}


def test_entries_of_a_section_without_a_builder_are_refused_not_dropped(monkeypatch):
    monkeypatch.setattr(customization_stack, "SECTION_BUILDERS", {})
    with pytest.raises(ValueError, match="no builder for the stage section 'imports'"):
        _import_stage(App(context=cdk_context()))
