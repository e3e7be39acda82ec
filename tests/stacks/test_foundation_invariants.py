"""Foundation stack: the security and retention properties a reviewer depends on, per stage."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

STAGES = {"dev": ("111111111111", "us-east-1"), "prod": ("222222222222", "us-east-1")}


def resources(template, kind):
    return template.find_resources(kind)


@pytest.fixture(params=sorted(STAGES))
def stage(request, foundation_templates):
    account, region = STAGES[request.param]
    return request.param, account, region, foundation_templates[request.param]


def test_service_role_trust_is_limited_to_this_accounts_customization_jobs(stage):
    name, account, region, template = stage
    roles = [
        r
        for r in resources(template, "AWS::IAM::Role").values()
        if "customization jobs" in r["Properties"].get("Description", "")
    ]
    [role] = roles
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnEquals": {"aws:SourceArn": f"arn:aws:bedrock:{region}:{account}:model-customization-job/*"},
            },
        }
    ]


def test_every_service_trust_carries_confused_deputy_conditions(stage):
    _, account, _, template = stage
    for logical_id, role in resources(template, "AWS::IAM::Role").items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == account, logical_id


def test_service_role_reads_only_its_prefixes_and_writes_only_output(stage):
    _, _, _, template = stage
    [policy] = [
        p
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if "customization service role" in p["Properties"]["Description"]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    text = json.dumps(statements)

    def object_prefixes(action):
        found = set()
        for statement in statements:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if action in actions:
                found |= {json.dumps(t).rsplit("/", 2)[-2] for t in targets if "/*" in json.dumps(t)}
        return found

    assert object_prefixes("s3:PutObject") == {"jobs"}
    assert object_prefixes("s3:GetObject") == {"datasets", "invocation-logs", "jobs"}
    assert '"*"' not in text and "s3:*" not in text and "kms:*" not in text
    for statement in statements:
        if str(statement["Action"]).startswith("kms") or "kms:" in json.dumps(statement["Action"]):
            assert statement["Condition"]["StringEquals"]["kms:ViaService"].startswith("s3.")


def test_custom_model_key_lets_the_role_in_only_through_bedrock(stage):
    _, _, region, template = stage
    [key] = [
        k for k in resources(template, "AWS::KMS::Key").values() if "custom models" in k["Properties"]["Description"]
    ]
    [statement] = [
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "CustomizationRoleViaBedrock"
    ]
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": f"bedrock.{region}.amazonaws.com"}}
    assert sorted(statement["Action"]) == ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]


def test_keys_rotate_and_are_retained(stage):
    _, _, _, template = stage
    keys = resources(template, "AWS::KMS::Key")
    assert len(keys) == 3
    for key in keys.values():
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"
    aliases = sorted(a["Properties"]["AliasName"] for a in resources(template, "AWS::KMS::Alias").values())
    assert aliases == [
        f"alias/bedrock-estate-{stage[0]}/custom-models",
        f"alias/bedrock-estate-{stage[0]}/data",
        f"alias/bedrock-estate-{stage[0]}/notifications",
    ]


def _key_by_alias(template, suffix):
    [key_id] = [
        a["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
        for a in resources(template, "AWS::KMS::Alias").values()
        if a["Properties"]["AliasName"].endswith(suffix)
    ]
    return key_id, template.to_json()["Resources"][key_id]


def test_the_topic_has_its_own_key_and_the_data_key_admits_no_service_without_source_conditions(stage):
    """EventBridge's use of the topic's key carries no source conditions (SNS's requests for its
    deliveries have none): that statement sits on a key of its own, never on the key of training
    data, job output and invocation logs (prompts and responses)."""
    _, _, _, template = stage
    [topic] = resources(template, "AWS::SNS::Topic").values()
    notification_id, notification_key = _key_by_alias(template, "/notifications")
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [notification_id, "Arn"]}
    sids = [s.get("Sid") for s in notification_key["Properties"]["KeyPolicy"]["Statement"]]
    assert "EventBridgeToEstateTopic" in sids and "CloudWatchAlarmsToEstateTopic" in sids
    _, data_key = _key_by_alias(template, "/data")
    for statement in data_key["Properties"]["KeyPolicy"]["Statement"]:
        if "Service" in statement["Principal"]:
            assert statement.get("Condition"), statement  # every service statement is conditioned
        assert "events.amazonaws.com" not in json.dumps(statement["Principal"])


def test_buckets_are_private_encrypted_versioned_logged_and_retained(stage):
    _, _, _, template = stage
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 4
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert any("NoncurrentVersionExpiration" in rule for rule in props["LifecycleConfiguration"]["Rules"])
        assert bucket["DeletionPolicy"] == "Retain", logical_id
        encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        if logical_id.startswith("AccessLogs"):
            assert encryption == {"SSEAlgorithm": "AES256"}  # log delivery cannot write SSE-KMS
        else:
            assert encryption["SSEAlgorithm"] == "aws:kms" and "KMSMasterKeyID" in encryption
            assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("AccessLogs")


def test_every_bucket_denies_plain_http_and_old_tls(stage):
    _, _, _, template = stage
    buckets = set(resources(template, "AWS::S3::Bucket"))
    policies = resources(template, "AWS::S3::BucketPolicy")
    covered = set()
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        tls = [
            s
            for s in statements
            if s["Effect"] == "Deny" and s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        old = [
            s
            for s in statements
            if s["Effect"] == "Deny" and "s3:TlsVersion" in s["Condition"].get("NumericLessThan", {})
        ]
        if tls and old:
            covered.add(policy["Properties"]["Bucket"]["Ref"])
    assert covered == buckets


def test_invocation_log_delivery_is_limited_to_bedrock_in_this_account_and_region(stage):
    _, account, region, template = stage
    statements = [
        s
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "BedrockInvocationLogDelivery"
    ]
    [statement] = statements
    assert statement["Action"] == "s3:PutObject"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{region}:{account}:*"},
    }
    assert f"/AWSLogs/{account}/BedrockModelInvocationLogs/*" in json.dumps(statement["Resource"])


def test_log_groups_are_encrypted_with_retention(stage, default_spec):
    name, _, _, template = stage
    days = default_spec.stage(name).retention.log_group_days
    for group in resources(template, "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"]
        assert group["Properties"]["LogGroupName"].startswith(f"/bedrock-estate-{name}/")
        assert group["DeletionPolicy"] == "Retain"
    invocation = [
        g
        for g in resources(template, "AWS::Logs::LogGroup").values()
        if g["Properties"]["LogGroupName"].endswith("model-invocations")
    ]
    assert invocation[0]["Properties"]["RetentionInDays"] == days


def test_handler_functions_are_one_provider_with_least_privilege(stage):
    _, _, _, template = stage
    functions = resources(template, "AWS::Lambda::Function")
    # The stack's one provider: on_event and is_complete, and the framework's onEvent, isComplete
    # and onTimeout; the same five in every stack, whatever it holds.
    assert len(functions) == 5
    handler = next(f for f in functions.values() if f["Properties"]["Handler"] == "estate_runtime.entry.on_event")
    assert handler["Properties"]["Runtime"] == "python3.14"
    assert handler["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert (
        handler["Properties"]["Environment"]["Variables"]["ESTATE_RESOURCE_TYPES"] == "Custom::BedrockInvocationLogging"
    )
    [policy] = [
        p
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if "Custom::BedrockInvocationLogging custom-resource handler" in p["Properties"]["Description"]
    ]
    passrole = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "iam:PassRole"]
    assert passrole[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}


def test_invocation_logging_waits_for_every_policy_it_depends_on(stage):
    _, _, _, template = stage
    [resource] = template.find_resources("Custom::BedrockInvocationLogging").values()
    depends = resource["DependsOn"]
    assert any(d.startswith("InvocationLogsPolicy") for d in depends)  # bucket policy
    assert any(d.startswith("InvocationLoggingDeliveryPolicy") for d in depends)
    assert any(d.startswith("DataKey") for d in depends)  # key policy lives on the key


def test_foundation_publishes_outputs_and_parameters(stage):
    name, _, _, template = stage
    parameters = sorted(p["Properties"]["Name"] for p in resources(template, "AWS::SSM::Parameter").values())
    assert f"/bedrock-estate/{name}/foundation/customization-role-arn" in parameters
    assert f"/bedrock-estate/{name}/foundation/training-bucket-name" in parameters
    assert f"/bedrock-estate/{name}/foundation/notification-topic-arn" in parameters
    assert len(parameters) == 8
    template.has_output("CustomizationRoleArn", Match.any_value())


def test_protected_stage_stacks_have_termination_protection(default_estate, default_spec):
    import aws_cdk  # noqa: F401  (the assembly manifests were written by the session synth)

    manifest = json.loads((default_estate.directory / "assembly-prod" / "manifest.json").read_text())
    props = next(a["properties"] for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack")
    assert props["terminationProtection"] is True
    dev = json.loads((default_estate.directory / "assembly-dev" / "manifest.json").read_text())
    dev_props = next(a["properties"] for a in dev["artifacts"].values() if a["type"] == "aws:cloudformation:stack")
    assert not dev_props.get("terminationProtection")


def test_stacks_are_bound_to_their_stage_account_and_region(default_estate):
    envs = {}
    for stage in ("dev", "prod"):
        manifest = json.loads((default_estate.directory / f"assembly-{stage}" / "manifest.json").read_text())
        envs[stage] = next(
            a["environment"] for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"
        )
    assert envs == {"dev": "aws://111111111111/us-east-1", "prod": "aws://222222222222/us-east-1"}


def test_destroy_variant_deletes_data_and_schedules_key_deletion(variant_estate):
    from aws_cdk.assertions import Template

    template = Template.from_json(variant_estate.stack("sandbox/Foundation").template)
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Delete"
    assert template.find_resources("Custom::S3AutoDeleteObjects")  # emptied before deletion
    for key in template.find_resources("AWS::KMS::Key").values():
        assert key["DeletionPolicy"] == "Delete" and key["Properties"]["PendingWindowInDays"] == 30
    assert not [
        r
        for r in template.find_resources("AWS::IAM::Role").values()
        if "CloudWatch Logs" in r["Properties"].get("Description", "")
    ]
