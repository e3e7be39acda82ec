"""Serving stack: what a reviewer relies on, and the contract with the customization stack."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.foundation.estate_key import EstateKey, EstateKeyProps
from constructs_lib.machinery.resource_provider import ProviderLogging
from constructs_lib.serving.served_model import ServedModel, ServedModelProps
from estate_runtime.naming import JobNames


def resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_serving_finds_the_job_by_the_names_the_customization_stack_gave_it(default_estate, promotion_estate):
    for estate, stage, job, kind in (
        (promotion_estate, "dev", "summarizer", "Custom::BedrockProvisionedThroughput"),
        (default_estate, "dev", "summarizer", "Custom::BedrockCustomModelDeployment"),
    ):
        [job_resource] = resources(
            estate.stack(f"{stage}/Customization").template, "Custom::BedrockCustomizationJob"
        ).values()
        [served] = resources(estate.stack(f"{stage}/Serving").template, kind).values()
        assert served["Properties"]["Model"] == {"JobNameParts": job_resource["Properties"]["NameParts"]}
        assert job_resource["Properties"]["NameParts"]["Readable"].endswith(job)


def test_serving_finds_a_nova_model_by_the_names_the_customization_stack_gave_it(permissions_estate):
    """The lab serves its Nova models trained in SageMaker AI by name: each serving resource carries the
    model's name parts, and neither stack references the other, so a new model (new names) is not
    blocked by an export the serving stack imports."""
    customization = permissions_estate.stack("lab/Customization").template
    serving = permissions_estate.stack("lab/Serving").template
    names = {
        r["Properties"]["NameParts"]["Readable"]: r["Properties"]["NameParts"]
        for r in resources(customization, "Custom::BedrockNovaCustomModel").values()
    }
    served = {
        kind: [r["Properties"]["Model"] for r in resources(serving, kind).values()]
        for kind in ("Custom::BedrockCustomModelDeployment", "Custom::BedrockProvisionedThroughput")
    }
    assert {"CustomModelNameParts": names["perm-estate-lab-support-nova"]} in served[
        "Custom::BedrockCustomModelDeployment"
    ]
    assert served["Custom::BedrockProvisionedThroughput"] == [
        {"CustomModelNameParts": names["perm-estate-lab-escrow-nova"]}
    ]
    assert not [o for o in customization.get("Outputs", {}).values() if "Export" in o]
    imported = re.findall(r'"Fn::ImportValue": "([^"]+)"', json.dumps(serving))
    assert imported and all("-foundation-" in name for name in imported)  # the foundation's exports only
    throughput_policy = next(
        p["Properties"]["PolicyDocument"]
        for k, p in resources(serving, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("EstateProviderBedrockProvisionedThroughputPolicy")
    )
    statements = throughput_policy["Statement"]
    # Which base model id the created model reports is not documented: its lifecycle is read under either.
    [lifecycle] = [s for s in statements if "bedrock:GetFoundationModel" in s["Action"]]
    assert sorted(lifecycle["Resource"]) == [
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k",
    ]
    # Capacity only for models carrying the lab's owner tag; no job is read for a model made by no job.
    [create] = [
        s
        for s in statements
        if "bedrock:CreateProvisionedModelThroughput" in s["Action"] and "custom-model" in json.dumps(s["Resource"])
    ]
    assert create["Condition"] == {"StringEquals": {"aws:ResourceTag/bedrock-estate": "perm-estate-lab"}}
    assert "bedrock:GetModelCustomizationJob" not in json.dumps(throughput_policy)


def test_throughput_properties_in_the_promotion_estate(promotion_estate):
    [served] = resources(
        promotion_estate.stack("dev/Serving").template, "Custom::BedrockProvisionedThroughput"
    ).values()
    props = served["Properties"]
    assert props["ModelUnits"] == 1 and "CommitmentDuration" not in props
    assert (
        props["Name"].startswith("bedrock-estate-dev-summarizer-pt-") and props["ClientRequestToken"] == props["Name"]
    )
    assert props["ModelWaitSeconds"] == 1200 and props["ServeWaitSeconds"] == 3300  # within the one-hour waiter


def test_alarms_reach_the_estate_topic_and_are_named_for_its_trust(default_estate):
    template = default_estate.stack("dev/Serving").template
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert sorted(a["Properties"]["AlarmName"] for a in alarms.values()) == [
        "bedrock-estate-dev-summarizer-client-errors",
        "bedrock-estate-dev-summarizer-server-errors",
        "bedrock-estate-dev-summarizer-throttles",
    ]
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [
            "arn:aws:sns:us-east-1:111111111111:bedrock-estate-dev-notifications"
        ]
        assert alarm["Properties"]["Namespace"] == "AWS/Bedrock"
        assert alarm["Properties"]["Dimensions"][0]["Name"] == "ModelId"
    [dashboard] = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "Invocations",
        "InvocationLatency",
        "InvocationThrottles",
        "InvocationClientErrors",
        "InvocationServerErrors",
        "InputTokenCount",
        "OutputTokenCount",
    ):
        assert metric in body


def test_handler_manages_only_provisioned_models_and_reads_jobs(promotion_estate):
    template = promotion_estate.stack("dev/Serving").template
    policy = next(
        p
        for k, p in resources(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("EstateProviderBedrockProvisionedThroughputPolicy")
    )
    text = json.dumps(policy["Properties"]["PolicyDocument"])
    assert "bedrock:CreateProvisionedModelThroughput" in text and "provisioned-model/*" in text
    assert "bedrock:CreateCustomModelDeployment" not in text and "iam:PassRole" not in text
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    # Create is authorized on the model served and its base model, never on a throughput ARN.
    creates = [s for s in statements if "bedrock:CreateProvisionedModelThroughput" in s["Action"]]
    assert "provisioned-model" not in json.dumps([s["Resource"] for s in creates])
    assert "foundation-model/amazon.titan-embed-image-v1:0" in json.dumps([s["Resource"] for s in creates])
    # Update and delete only what this stage created: its owner tag.
    [destructive] = [s for s in statements if "bedrock:DeleteProvisionedModelThroughput" in s["Action"]]
    assert destructive["Condition"] == {"StringEquals": {"aws:ResourceTag/bedrock-estate": "bedrock-estate-dev"}}


def test_grant_invoke_gives_invoke_on_the_served_model_and_decrypt_through_bedrock():
    stack = cdk.Stack(cdk.App(), "App", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="t/data", description="logs"))
    served = ServedModel(
        stack,
        "Served",
        ServedModelProps(
            kind="provisioned",
            name="acme-dev-summarizer-pt-12345678",
            logging=ProviderLogging(log_group_prefix="/acme-dev/", log_key=key),
            owner="acme-dev",
            custom_model_key=kms.Key.from_key_arn(stack, "Models", "arn:aws:kms:us-west-2:111111111111:key/models"),
            job=JobNames("acme-dev-summarizer", "a" * 64),
        ),
    )
    app_role = iam.Role(stack, "AppRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    served.grant_invoke(app_role)
    [policy] = (
        Template.from_stack(stack)
        .find_resources(
            "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": stack.get_logical_id(app_role.node.default_child)}]}}
        )
        .values()
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    invoke = next(
        s for s in statements if s["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    )
    assert invoke["Resource"] == {"Fn::GetAtt": [stack.get_logical_id(served.resource.node.default_child), "Arn"]}
    decrypt = next(s for s in statements if "kms:Decrypt" in s["Action"])
    assert decrypt == {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],  # GenerateDataKey: Nova models need it
        "Effect": "Allow",
        "Resource": "arn:aws:kms:us-west-2:111111111111:key/models",
        "Condition": {"StringEquals": {"kms:ViaService": "bedrock.us-west-2.amazonaws.com"}},
    }


def test_job_and_served_model_constructs_stand_alone_in_a_plain_app_under_every_pack(tmp_path):
    from constructs_lib import CustomizationServiceRole, add_nag_packs
    from constructs_lib.customization.customization_job import CustomizationJob, CustomizationJobProps

    app = cdk.App(outdir=str(tmp_path))  # no cdk.json feature flags
    stack = cdk.Stack(app, "Team", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="team/data", description="logs"))
    key.grant_cloudwatch_logs("/team/")
    logging = ProviderLogging(log_group_prefix="/team/", log_key=key)
    role = CustomizationServiceRole(stack, "Role")
    names = JobNames("team-dev-summarizer", "b" * 64)
    CustomizationJob(
        stack,
        "Job",
        CustomizationJobProps(
            names=names,
            role=role,
            base_model="anthropic.claude-3-haiku-20240307-v1:0:200k",
            customization_type="FINE_TUNING",
            training_data_config={"s3Uri": "s3://team-data/train.jsonl"},
            output_s3_uri="s3://team-output/jobs/",
            logging=logging,
            owner="team-dev",
            custom_model_key=key,
        ),
    )
    ServedModel(
        stack,
        "Served",
        ServedModelProps(
            kind="provisioned",
            name="team-dev-summarizer-pt",
            logging=logging,
            owner="team-dev",
            custom_model_key=key,
            job=names,
        ),
    )
    add_nag_packs(app)
    app.synth()  # raises on any unacknowledged finding


def _serving_statements(template, kind):
    policy = next(
        p
        for k, p in resources(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith(f"EstateProvider{kind}Policy")
    )
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _actions(statement):
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_capacity_is_created_only_for_custom_models_carrying_the_stage_owner_tag(default_estate, promotion_estate):
    """Throughput and deployments bill by the hour: the handler may create or update them for the
    models this estate stage trained or copied (its owner tag), not for any custom model of the account."""
    for estate, stage, kind, noun in (
        (promotion_estate, "dev", "BedrockProvisionedThroughput", "ProvisionedModelThroughput"),
        (promotion_estate, "prod", "BedrockProvisionedThroughput", "ProvisionedModelThroughput"),
        (default_estate, "dev", "BedrockCustomModelDeployment", "CustomModelDeployment"),
    ):
        statements = _serving_statements(estate.stack(f"{stage}/Serving").template, kind)
        expected = {"StringEquals": {"aws:ResourceTag/bedrock-estate": f"bedrock-estate-{stage}"}}
        for action in (f"bedrock:Create{noun}", f"bedrock:Update{noun}"):
            on_models = [
                s for s in statements if action in _actions(s) and ":custom-model/" in json.dumps(s["Resource"])
            ]
            assert on_models, (stage, action)
            for statement in on_models:
                assert statement.get("Condition") == expected, (stage, action, statement)


def test_a_model_named_by_its_arn_is_the_only_custom_model_capacity_is_created_for():
    stack = cdk.Stack(cdk.App(), "App", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="t/data", description="logs"))
    model = "arn:aws:bedrock:us-west-2:111111111111:custom-model/amazon.nova-lite-v1:0:300k/abcdefghijkl"
    ServedModel(
        stack,
        "Served",
        ServedModelProps(
            kind="on-demand",
            name="acme-dev-summarizer-od",
            logging=ProviderLogging(log_group_prefix="/acme-dev/", log_key=key),
            owner="acme-dev",
            custom_model_key=kms.Key.from_key_arn(stack, "Models", "arn:aws:kms:us-west-2:111111111111:key/models"),
            model_arn=model,
        ),
    )
    statements = _serving_statements(Template.from_stack(stack).to_json(), "BedrockCustomModelDeployment")
    creates = [s for s in statements if "bedrock:CreateCustomModelDeployment" in _actions(s)]
    assert [(s["Resource"], s.get("Condition")) for s in creates] == [(model, None)]


def test_a_served_model_and_its_job_must_have_the_same_owner():
    from constructs_lib import CustomizationServiceRole
    from constructs_lib.customization.customization_job import CustomizationJob, CustomizationJobProps

    stack = cdk.Stack(cdk.App(), "Team", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="team/data", description="logs"))
    logging = ProviderLogging(log_group_prefix="/team/", log_key=key)
    job = CustomizationJob(
        stack,
        "Job",
        CustomizationJobProps(
            names=JobNames("team-dev-summarizer", "b" * 64),
            role=CustomizationServiceRole(stack, "Role"),
            base_model="anthropic.claude-3-haiku-20240307-v1:0:200k",
            customization_type="FINE_TUNING",
            training_data_config={"s3Uri": "s3://team-data/train.jsonl"},
            output_s3_uri="s3://team-output/jobs/",
            logging=logging,
            owner="team-dev",
            custom_model_key=key,
        ),
    )
    with pytest.raises(ValueError, match="differs from its job's owner 'team-dev'"):
        ServedModel(
            stack,
            "Served",
            ServedModelProps(
                kind="provisioned",
                name="team-dev-summarizer-pt",
                logging=logging,
                owner="team-prod",
                custom_model_key=key,
                job=job,
            ),
        )


def test_a_model_adopted_on_its_own_key_is_served_with_that_key_through_bedrock_only(tmp_path):
    """examples/adopted-serving.yaml with the adopted model declared on a customer managed key
    (customModelKmsKeyArn): its serving handler may use exactly that key, only through Bedrock in the
    stage's Region, and no longer the stage's custom-model key (which does not encrypt it)."""
    from ..conftest import EXAMPLES, load_example
    from ..synthesis import synthesize

    key = "arn:aws:kms:us-east-1:111111111111:key/their-own"
    text = (EXAMPLES / "adopted-serving.yaml").read_text()
    keyed = text.replace(
        "        baseModel: amazon.nova-lite-v1:0:300k\n",
        f"        baseModel: amazon.nova-lite-v1:0:300k\n        customModelKmsKeyArn: {key}\n",
        1,
    )
    assert keyed != text
    estate = synthesize(load_example("adopted-serving.yaml", keyed), tmp_path / "cdk.out", base_dir=EXAMPLES)
    template = estate.stack("dev/Serving").template
    statements = [
        s
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(str(a).startswith("kms:") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))
    ]
    assert statements and all(
        s["Resource"] == key
        and s["Condition"] == {"StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}}
        for s in statements
    ), json.dumps(statements, indent=1)
