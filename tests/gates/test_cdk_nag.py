"""cdk-nag gate: the five packs run on every synthesis and any unacknowledged finding fails it."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from constructs_lib.compliance.nag import acknowledge, add_nag_packs

from ..conftest import cdk_context


def synth_one_bucket(tmp_path, *, acknowledge_logging: bool):
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    stage = cdk.Stage(app, "gate", env=cdk.Environment(account="111111111111", region="us-west-2"))
    stack = cdk.Stack(stage, "Stack")
    bucket = s3.Bucket(stack, "Unlogged", enforce_ssl=True, versioned=True)
    if acknowledge_logging:
        acknowledge(bucket.node.default_child, "AwsSolutions-S1", "test")
    add_nag_packs(app)
    return app.synth()


def test_an_unacknowledged_finding_fails_synthesis(tmp_path):
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synth_one_bucket(tmp_path, acknowledge_logging=False)
    report = (tmp_path / "validation-report.json").read_text()
    for pack_rule in (
        "AwsSolutions-S1",
        "NIST.800.53.R5-S3BucketLoggingEnabled",
        "HIPAA.Security-S3BucketLoggingEnabled",
    ):
        assert pack_rule in report


def test_acknowledgement_covers_exactly_one_finding(tmp_path):
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synth_one_bucket(tmp_path, acknowledge_logging=True)
    report = (tmp_path / "validation-report.json").read_text()
    assert '"AwsSolutions-S1"' not in report  # acknowledged
    assert "NIST.800.53.R5-S3BucketLoggingEnabled" in report  # the same problem in another pack is not


def test_acknowledging_needs_a_reason():
    app = cdk.App()
    with pytest.raises(ValueError, match="needs a reason"):
        acknowledge(app, "AwsSolutions-S1", "  ")


def test_default_and_variant_estates_synthesize_with_every_pack_clean(default_estate, variant_estate):
    # Both fixtures synthesize with the packs attached and failSynthOnValidationErrors on (cdk.json);
    # reaching here means zero unacknowledged findings, including CDK's provider framework.
    assert cdk_context()["@aws-cdk/core:failSynthOnValidationErrors"] is True
    for estate in (default_estate, variant_estate):
        report_file = estate.directory / "validation-report.json"
        if report_file.exists():
            report = json.loads(report_file.read_text())
            assert [v for r in report["pluginReports"] for v in r["violations"]] == []
    assert {s.stack_id for s in default_estate.stacks} == {
        "Delivery",
        "DeliveryArtifacts-us-east-1",  # the pipeline's artifact bucket in the other stage region
        *(f"{stage}/{stack}" for stage in ("dev", "prod") for stack in ("Foundation", "Customization", "Serving")),
    }
    assert {s.stack_id for s in variant_estate.stacks} == {"sandbox/Foundation"}  # no pipeline in the variant
