"""SecureBucket on its own: secure defaults, access logging without feature flags, refusals."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from constructs_lib import EstateKey, EstateKeyProps, SecureBucket, SecureBucketProps


def build(**overrides):
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    logs = SecureBucket(stack, "Logs", SecureBucketProps(encryption_key=None, access_logs_bucket=None))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="t/data", description="test"))
    props = {"encryption_key": key, "access_logs_bucket": logs, "access_logs_prefix": "data/", **overrides}
    SecureBucket(stack, "Data", SecureBucketProps(**props))
    return assertions.Template.from_stack(stack)


def test_access_logs_go_to_the_destination_under_a_policy_with_source_conditions():
    template = build()
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LoggingConfiguration": {
                "DestinationBucketName": {"Ref": assertions.Match.string_like_regexp("^Logs")},
                "LogFilePrefix": "data/",
            }
        },
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": assertions.Match.array_with(
                    [
                        assertions.Match.object_like(
                            {
                                "Sid": "ServerAccessLogsFromData",
                                "Principal": {"Service": "logging.s3.amazonaws.com"},
                                "Condition": {
                                    "ArnLike": {
                                        "aws:SourceArn": {
                                            "Fn::GetAtt": [assertions.Match.string_like_regexp("^Data"), "Arn"]
                                        }
                                    },
                                    "StringEquals": {"aws:SourceAccount": "111111111111"},
                                },
                            }
                        )
                    ]
                )
            }
        },
    )
    # No ACL-based log delivery (which would need ObjectWriter ownership and re-enable ACLs).
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert "AccessControl" not in bucket["Properties"]


def test_destroy_empties_the_bucket_before_deleting_it():
    template = build(removal_policy=cdk.RemovalPolicy.DESTROY)
    template.resource_count_is("Custom::S3AutoDeleteObjects", 1)


def test_expiring_objects_adds_a_rule():
    template = build(expiration_days=30)
    rules = [
        r
        for b in template.find_resources("AWS::S3::Bucket").values()
        for r in b["Properties"]["LifecycleConfiguration"]["Rules"]
        if r["Id"] == "expire-objects"
    ]
    assert rules == [{"Id": "expire-objects", "ExpirationInDays": 30, "Status": "Enabled"}]


def test_a_kms_encrypted_log_destination_is_refused():
    stack = cdk.Stack(cdk.App(), "S")
    key = EstateKey(stack, "Key", EstateKeyProps(alias="t/data", description="test"))
    with pytest.raises(ValueError, match="must use SSE-S3"):
        SecureBucket(stack, "Logs", SecureBucketProps(encryption_key=key, access_logs_bucket=None))
