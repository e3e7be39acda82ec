"""CustomizationServiceRole on its own: trust, grants, refusals."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_s3 as s3

from constructs_lib import CustomizationServiceRole, CustomizationServiceRoleProps, EstateKey, EstateKeyProps


def stack():
    return cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="123456789012", region="us-east-1"))


def test_extra_source_arns_stay_within_this_account_and_region():
    s = stack()
    CustomizationServiceRole(
        s, "Role", CustomizationServiceRoleProps(source_arn_resources=["model-customization-job/*", "model-copy-job/*"])
    )
    statement = assertions.Template.from_stack(s).find_resources("AWS::IAM::Role")
    [role] = statement.values()
    condition = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    arns = [json.dumps(arn) for arn in condition["ArnEquals"]["aws:SourceArn"]]
    assert len(arns) == 2
    assert ":bedrock:us-east-1:123456789012:model-customization-job/*" in arns[0]
    assert ":bedrock:us-east-1:123456789012:model-copy-job/*" in arns[1]
    assert condition["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_whole_bucket_object_access_is_refused():
    s = stack()
    role = CustomizationServiceRole(s, "Role")
    bucket = s3.Bucket(s, "B")
    with pytest.raises(ValueError, match="under a prefix"):
        role.grant_read_data(bucket, "")


def test_imported_bucket_grant_is_scoped_to_the_prefix():
    s = stack()
    role = CustomizationServiceRole(s, "Role")
    role.grant_read_data(s3.Bucket.from_bucket_name(s, "Shared", "shared-datasets"), "team-a/")
    [policy] = assertions.Template.from_stack(s).find_resources("AWS::IAM::ManagedPolicy").values()
    resources = [
        st["Resource"] for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Action"] == "s3:GetObject"
    ]
    assert resources == [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::shared-datasets/team-a/*"]]}]


def test_custom_model_key_grant_is_a_key_policy_statement_via_bedrock():
    s = stack()
    role = CustomizationServiceRole(s, "Role")
    key = EstateKey(s, "Key", EstateKeyProps(alias="t/models", description="models"))
    role.grant_custom_model_key(key)
    [k] = assertions.Template.from_stack(s).find_resources("AWS::KMS::Key").values()
    [statement] = [
        x for x in k["Properties"]["KeyPolicy"]["Statement"] if x.get("Sid") == "CustomizationRoleViaBedrock"
    ]
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}}
    assert (
        statement["Principal"] == {"AWS": {"Fn::GetAtt": [assertions.Match.any_value(), "Arn"]}}
        or "AWS" in statement["Principal"]
    )
