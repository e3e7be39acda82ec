"""cfn-lint over every synthesized template: zero errors."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint


def _templates(default_estate, variant_estate):
    return [*default_estate.stacks, *variant_estate.stacks]


def test_every_template_is_lint_clean(default_estate, variant_estate):
    failures = {}
    for stack in _templates(default_estate, variant_estate):
        region = {"dev": "us-west-2", "prod": "us-east-1", "sandbox": "eu-west-1"}[stack.stage]
        matches = lint(json.dumps(stack.template), config=ManualArgs(regions=[region]))
        errors = [m for m in matches if m.rule.severity == "error"]
        if errors:
            failures[stack.stack_id] = [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in errors]
    assert failures == {}


def test_lint_catches_a_broken_template():
    broken = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "On"}}}}}
    matches = lint(json.dumps(broken), config=ManualArgs(regions=["us-west-2"]))
    assert any(m.rule.severity == "error" for m in matches)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
