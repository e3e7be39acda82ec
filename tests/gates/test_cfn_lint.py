"""cfn-lint over every synthesized template: zero errors."""

from __future__ import annotations

import pytest

from ..synthesis import lint_errors, lint_estate


def test_every_template_is_lint_clean(default_estate, variant_estate):
    assert lint_estate([*default_estate.stacks, *variant_estate.stacks]) == {}


def test_lint_catches_a_broken_template():
    broken = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "On"}}}
        }
    }
    assert any(error.startswith("E3") for error in lint_errors(broken, "us-west-2"))


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
