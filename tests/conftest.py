"""Shared fixtures. The default estate (a fixture, tests/fixtures/estates/default.yaml) is synthesized
once per test session and shared."""

from __future__ import annotations

import pytest

from .synthesis import ROOT, SynthesizedEstate, SynthesizedStack, cdk_context, synthesize  # noqa: F401 (shared with tests)

# The project's own tests read spec fixtures from here, never the repository's estate.yaml: that
# file is the user's, and the gates in tests/estate/ test it. Dataset paths in a fixture are
# relative to the fixture file, as in any spec.
FIXTURES = ROOT / "tests" / "fixtures" / "estates"
DEFAULT_FIXTURE = FIXTURES / "default.yaml"


@pytest.fixture(scope="session")
def default_spec():
    from constructs_lib.spec import load_spec

    return load_spec(DEFAULT_FIXTURE)


@pytest.fixture(scope="session")
def default_estate(default_spec, tmp_path_factory) -> SynthesizedEstate:
    return synthesize(default_spec, tmp_path_factory.mktemp("cdk.out"), base_dir=FIXTURES)


@pytest.fixture(scope="session")
def foundation_templates(default_estate):
    """{stage name: Template} for every stage's foundation stack."""
    from aws_cdk.assertions import Template

    return {
        s.stage: Template.from_json(s.template) for s in default_estate.stacks if s.stack_id.endswith("/Foundation")
    }


VARIANT_SPEC = """\
name: variant-estate
removal: destroy
invocationLogging:
  cloudWatch: false
  adoptExisting: true
  dataDelivery: {text: true, image: true}
stages:
  sandbox:
    account: "333333333333"
    region: eu-west-1
"""


@pytest.fixture(scope="session")
def variant_estate(tmp_path_factory) -> SynthesizedEstate:
    """A second estate exercising the non-default choices: destroy, S3-only logging, adoption."""
    from constructs_lib.spec import parse_spec

    return synthesize(parse_spec(VARIANT_SPEC, source="variant.yaml"), tmp_path_factory.mktemp("variant.out"))
