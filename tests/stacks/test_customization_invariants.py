"""Customization stack: what a reviewer relies on in the jobs' templates."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.spec import parse_spec
from stacks.estate_stage import EstateStage

from ..conftest import cdk_context

PROMPT = {
    "schemaVersion": "bedrock-conversation-2024",
    "messages": [{"role": "user", "content": [{"text": "Summarize: the disk is full."}]}],
}


@pytest.fixture(scope="module")
def rich(permissions_estate):
    """S3 dataset under its own key, a VPC job, an inference-profile teacher (tests/conftest.py)."""
    return permissions_estate.stack("lab/Customization").template


def resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def job(template, name):
    return next(
        r
        for r in resources(template, "Custom::BedrockCustomizationJob").values()
        if r["Properties"]["NameParts"]["Readable"].endswith(name)
    )


def test_jobs_are_named_from_stage_job_and_content(default_estate):
    template = default_estate.stack("dev/Customization").template
    props = job(template, "summarizer")["Properties"]
    assert props["NameParts"]["Readable"] == "bedrock-estate-dev-summarizer"
    assert (
        props["JobName"]
        == props["CustomModelName"]
        == f"bedrock-estate-dev-summarizer-{props['NameParts']['Digest'][:10]}"
    )
    assert props["ValidationWaitSeconds"] == 3300  # stops waiting before the provider's one-hour limit


def test_datasets_are_copied_under_content_hashed_keys(default_estate):
    template = default_estate.stack("dev/Customization").template
    keys = sorted(r["Properties"]["TargetKey"] for r in resources(template, "Custom::BedrockEstateDataset").values())
    assert [k.split("/")[1] for k in keys] == ["summaries-train", "summaries-validation"]
    assert all(len(k.rsplit("/", 1)[1]) == len("0123456789abcdef.jsonl") for k in keys)


def test_the_dataset_handler_writes_only_under_each_datasets_own_folder(default_estate):
    """Not anywhere under datasets/: each dataset's copies live under datasets/<name>/."""
    template = default_estate.stack("dev/Customization").template
    [policy] = [
        p
        for k, p in resources(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("EstateProviderBedrockEstateDatasetPolicy")
    ]
    writes = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "s3:PutObject" in json.dumps(s["Action"])
    ]
    written = sorted(
        json.dumps(resource)
        for statement in writes
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
    )
    assert len(written) == 2
    assert "/datasets/summaries-train/*" in written[0] and "/datasets/summaries-validation/*" in written[1]


def test_the_stack_reads_the_foundation_from_its_exports_not_parameters(default_estate):
    # An SSM parameter read at deploy time could be rewritten to redirect the PassRole, KMS and S3
    # grants made of it; an export is resolved by CloudFormation and cannot change while imported.
    for stack_id in ("dev/Customization", "prod/Customization", "dev/Serving", "prod/Serving"):
        template = default_estate.stack(stack_id).template
        parameters = {
            k for k, p in template.get("Parameters", {}).items() if p["Type"].startswith("AWS::SSM::Parameter::Value")
        }
        assert parameters <= {"BootstrapVersion"}, stack_id  # CDK's bootstrap check grants nothing
        text = json.dumps(template)
        assert "Fn::GetStackOutput" not in text
        assert f'"Fn::ImportValue": "bedrock-estate-{stack_id.split("/")[0]}-foundation-' in text
        parameters = default_estate.stack(stack_id).template["Parameters"]
        assert all(
            p["Default"].startswith(f"/bedrock-estate/{stack_id.split('/')[0]}/foundation/")
            for k, p in parameters.items()
            if k != "BootstrapVersion"
        )


def test_job_state_changes_reach_the_estate_topic(default_estate):
    template = default_estate.stack("prod/Customization").template
    rules = {r["Properties"]["Name"]: r for r in resources(template, "AWS::Events::Rule").values()}
    props = rules["bedrock-estate-prod-customization-jobs"]["Properties"]
    assert props["Name"] == "bedrock-estate-prod-customization-jobs"  # the topic only trusts this prefix
    assert props["EventPattern"] == {
        "source": ["aws.bedrock"],
        "detail-type": ["Model Customization Job State Change"],
        "detail": {"jobName": [{"prefix": "bedrock-estate-prod-"}]},
    }
    assert props["Targets"][0]["Arn"] == "arn:aws:sns:us-east-1:222222222222:bedrock-estate-prod-notifications"


def test_handler_may_create_jobs_only_on_the_declared_base_model(default_estate):
    template = default_estate.stack("dev/Customization").template
    policy = next(
        p
        for k, p in resources(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("EstateProviderBedrockCustomizationJobPolicy")
    )
    [create] = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "bedrock:CreateModelCustomizationJob"
    ]
    assert "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k" in create["Resource"]
    [passrole] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "iam:PassRole"]
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}


def test_s3_dataset_is_preflighted_and_readable_by_the_role(rich):
    props = job(rich, "nova-tuned")["Properties"]
    assert props["TrainingDataConfig"] == {"s3Uri": "s3://shared-datasets/nova/train.jsonl"}
    assert props["Preflight"] == [
        {
            "S3Uri": "s3://shared-datasets/nova/train.jsonl",
            "Format": "bedrock-conversation-2024",
            "Purpose": "training dataset shared-train",
            "SingleTurn": False,
            "RequireFinalAssistant": True,
            "MinRecords": 8,
            "MaxRecords": 20000,
            "MaxTokensPerRecord": 32000,
            "KmsKeyArn": "arn:aws:kms:us-east-1:444444444444:key/abcd-1234",
        }
    ]
    [access] = [p for k, p in resources(rich, "AWS::IAM::ManagedPolicy").items() if k.startswith("JobAccess")]
    statements = access["Properties"]["PolicyDocument"]["Statement"]
    text = json.dumps(statements)
    assert "arn:aws:s3:::shared-datasets/nova/train.jsonl" in text
    decrypt = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert decrypt[0]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    # The user guide's policies also list the data bucket: here only at the object and its folder.
    [listing] = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert listing["Resource"] == "arn:aws:s3:::shared-datasets"
    assert listing["Condition"] == {"StringEquals": {"s3:prefix": ["nova/train.jsonl", "nova/"]}}


def test_inference_profile_teacher_is_invocable_by_the_role_in_its_regions(rich):
    access = next(p for k, p in resources(rich, "AWS::IAM::ManagedPolicy").items() if k.startswith("JobAccess"))
    [invoke] = [s for s in access["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "bedrock:InvokeModel"]
    assert sorted(invoke["Resource"]) == [
        "arn:aws:bedrock:us-east-1:444444444444:inference-profile/us.amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0",
    ]
    teacher = job(rich, "profile-distilled")["Properties"]["CustomizationConfig"]["distillationConfig"][
        "teacherModelConfig"
    ]
    assert teacher == {"teacherModelIdentifier": "us.amazon.nova-pro-v1:0", "maxResponseLengthForInference": 2000}


def test_vpc_job_gets_network_interfaces_only_tagged_for_bedrock(rich):
    props = job(rich, "nova-tuned")["Properties"]
    assert props["VpcConfig"] == {"subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"]}
    access = next(p for k, p in resources(rich, "AWS::IAM::ManagedPolicy").items() if k.startswith("JobAccess"))
    create = [
        s
        for s in access["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "ec2:CreateNetworkInterface" and "Condition" in s
    ]
    assert create[0]["Condition"]["StringEquals"] == {"aws:RequestTag/BedrockManaged": "true"}
    assert props["Removal"] == "destroy"
    assert {"key": "cost-center", "value": "42"} in props["JobTags"]


def test_jobs_wait_for_the_job_specific_access(rich):
    for resource in resources(rich, "Custom::BedrockCustomizationJob").values():
        assert any(d.startswith("JobAccess") for d in resource["DependsOn"])


def test_a_hundred_jobs_add_no_lambda_function(tmp_path):
    def functions(count: int) -> int:
        jobs = "".join(
            f"      job-{i}:\n        type: FINE_TUNING\n        baseModel: meta.llama3-1-8b-instruct-v1:0:128k\n"
            f"        trainingData: {{dataset: train}}\n        hyperparameters: {{epochCount: {1 + i % 10}}}\n"
            for i in range(count)
        )
        text = (
            'name: many\ndatasets:\n  train: {s3Uri: "s3://shared/train.jsonl"}\nstages:\n  dev:\n'
            '    account: "111111111111"\n    region: us-west-2\n    jobs:\n' + jobs
        )
        spec = parse_spec(text, base_dir=tmp_path)
        app = cdk.App(context=cdk_context(), outdir=str(tmp_path / f"out-{count}"))
        stage = EstateStage(app, spec.stage("dev"), spec, Path(tmp_path))
        template = Template.from_stack(stage.customization)
        assert len(template.find_resources("Custom::BedrockCustomizationJob")) == count
        return len(template.find_resources("AWS::Lambda::Function"))

    assert functions(100) == functions(1)


def test_completed_jobs_are_forwarded_to_the_pipeline_account_with_a_managed_policy(default_estate):
    template = default_estate.stack("dev/Customization").template
    rules = {r["Properties"]["Name"]: r for r in resources(template, "AWS::Events::Rule").values()}
    forward = rules["bedrock-estate-dev-forward-job-completions"]["Properties"]
    assert forward["EventPattern"]["detail"] == {
        "jobStatus": ["Completed"],
        "jobName": [{"prefix": "bedrock-estate-dev-"}],
    }
    assert forward["Targets"][0]["Arn"] == "arn:aws:events:us-west-2:333333333333:event-bus/default"
    [policy] = [
        p
        for k, p in resources(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("ForwardJobCompletionsPolicy")
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "events:PutEvents",
            "Effect": "Allow",
            "Resource": "arn:aws:events:us-west-2:333333333333:event-bus/default",
        }
    ]


def test_jobs_add_no_stack_outputs(default_estate):
    # CloudFormation allows 200 outputs per stack: a stage with many jobs must not run into it.
    for stack_id in ("dev/Customization", "prod/Customization"):
        assert default_estate.stack(stack_id).template.get("Outputs", {}) == {}, stack_id


# -- reinforcement fine-tuning ------------------------------------------------------------------------
def _statements(policy):
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_an_rft_job_names_its_grader_version_and_typed_hyperparameters(rich):
    [(version_id, _)] = resources(rich, "AWS::Lambda::Version").items()
    rft = job(rich, "arith-rft")["Properties"]["CustomizationConfig"]["rftConfig"]
    assert rft == {
        "graderConfig": {
            "lambdaGrader": {"lambdaArn": {"Ref": version_id}}
        },  # the version: the code the job trains with
        "hyperParameters": {
            "epochCount": 1,
            "batchSize": 16,
            "reasoningEffort": "low",
        },  # numbers, not the API's strings of other jobs
    }
    assert job(rich, "arith-rft")["Properties"]["CustomizationType"] == "REINFORCEMENT_FINE_TUNING"
    existing = job(rich, "team-graded")["Properties"]["CustomizationConfig"]["rftConfig"]
    assert existing == {
        "graderConfig": {"lambdaGrader": {"lambdaArn": "arn:aws:lambda:us-east-1:444444444444:function:team-grader:3"}}
    }


def test_the_service_role_may_invoke_exactly_the_graders_and_no_resource_policy_is_added(rich):
    [(version_id, version)] = resources(rich, "AWS::Lambda::Version").items()
    function_id = version["Properties"]["FunctionName"]["Ref"]
    # A running job keeps invoking the version it was given: versions are retained, and the grant
    # covers the deployed grader's versions (a timeout change publishes a new one mid-training).
    assert version["DeletionPolicy"] == "Retain"
    access = next(p for k, p in resources(rich, "AWS::IAM::ManagedPolicy").items() if k.startswith("JobAccess"))
    [invoke] = [s for s in _statements(access) if "lambda" in json.dumps(s["Action"])]
    assert invoke["Action"] == "lambda:InvokeFunction" and "Condition" not in invoke
    assert sorted(invoke["Resource"], key=json.dumps) == [
        "arn:aws:lambda:us-east-1:444444444444:function:team-grader:3",
        {"Fn::Join": ["", [{"Fn::GetAtt": [function_id, "Arn"]}, ":*"]]},
    ]
    # The RFT access guide asks for the service role's identity policy only; nothing else may invoke.
    assert resources(rich, "AWS::Lambda::Permission") == {}


@pytest.mark.parametrize(
    ("name", "timeout"),
    [
        ("perm-estate-lab-grader-arith-rft", 60),  # the Nova job's rftConfig.grader.handler
        ("perm-estate-lab-open-weight-grader-arith-qwen", 300),  # the open-weight entry's graderHandler (default)
    ],
)
def test_each_grader_function_logs_encrypted_with_retention_and_may_do_nothing_else(rich, name, timeout):
    [function] = [
        f for f in resources(rich, "AWS::Lambda::Function").values() if f["Properties"].get("FunctionName") == name
    ]
    props = function["Properties"]
    assert (props["Handler"], props["Timeout"], props["MemorySize"], props["Runtime"]) == (
        "exact_match.lambda_handler",
        timeout,
        512,
        "python3.14",
    )
    assert props["TracingConfig"] == {"Mode": "Active"}
    group = rich["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    assert group["LogGroupName"] == f"/perm-estate-lab/graders/{name}"
    assert group["KmsKeyId"] == {"Fn::ImportValue": "perm-estate-lab-foundation-data-key-arn"}
    assert group["RetentionInDays"] > 0
    role = rich["Resources"][props["Role"]["Fn::GetAtt"][0]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "444444444444"}
    }
    [policy] = [
        p
        for p in resources(rich, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"].get("Roles") == [{"Ref": props["Role"]["Fn::GetAtt"][0]}]
    ]
    actions = sorted(
        a for s in _statements(policy) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def test_the_rft_customization_stack_is_lint_clean(permissions_estate):
    from ..synthesis import lint_errors

    stack = permissions_estate.stack("lab/Customization")
    assert lint_errors(stack.template, stack.region) == []
