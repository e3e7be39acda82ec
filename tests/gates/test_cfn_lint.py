"""cfn-lint over every synthesized template: zero errors."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint


# cfn-lint reports its informational "prefer Fn::Sub" style check (I1022) through E3703 at error
# level when the join sits in a CodePipeline action's configuration (CDK Pipelines writes RoleArn
# that way). That one message is style, not an error; any other E3703 finding still fails.
_STYLE_THROUGH_E3703 = "Prefer using Fn::Sub over Fn::Join with an empty delimiter"


def _is_error(match) -> bool:
    if match.rule.severity != "error":
        return False
    return not (match.rule.id == "E3703" and match.message.startswith(_STYLE_THROUGH_E3703))


def _templates(default_estate, variant_estate):
    return [*default_estate.stacks, *variant_estate.stacks]


def test_every_template_is_lint_clean(default_estate, variant_estate):
    failures = {}
    for stack in _templates(default_estate, variant_estate):
        matches = lint(json.dumps(stack.template), config=ManualArgs(regions=[stack.region]))
        errors = [m for m in matches if _is_error(m)]
        if errors:
            failures[stack.stack_id] = [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in errors]
    assert failures == {}


def test_lint_catches_a_broken_template():
    broken = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "On"}}}}}
    matches = lint(json.dumps(broken), config=ManualArgs(regions=["us-west-2"]))
    assert any(m.rule.severity == "error" for m in matches)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
