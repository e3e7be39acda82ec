"""A CustomizationJob grants its service role what it reads, writes and encrypts with, or refuses a
role it cannot change, naming what is missing (issue 21, item 1): props that synthesize but would
fail with AccessDenied at deploy are no longer possible."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib import (
    CustomizationJob,
    CustomizationJobProps,
    CustomizationServiceRole,
    EstateConstructError,
    EstateDataset,
    EstateDatasetProps,
    EstateKey,
    EstateKeyProps,
    ProviderLogging,
    SecureBucket,
    SecureBucketProps,
    add_nag_packs,
)

NOVA_MICRO = "amazon.nova-micro-v1:0:128k"
ENV = cdk.Environment(account="111111111111", region="us-east-1")


def new_stack(tmp_path: Path) -> tuple[cdk.App, cdk.Stack, EstateKey, ProviderLogging]:
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Team", env=ENV)
    key = EstateKey(stack, "Key", EstateKeyProps(alias="team/data", description="team data"))
    return app, stack, key, ProviderLogging(log_group_prefix="/team/", log_key=key)


def job(stack: cdk.Stack, logging: ProviderLogging, role: iam.IRole, key: kms.IKey, **overrides) -> CustomizationJob:
    construct_id = overrides.pop("id", "Job")
    settings = dict(
        name="team-summarizer",
        role=role,
        base_model=NOVA_MICRO,
        customization_type="FINE_TUNING",
        training_data_config={"s3Uri": "s3://team-data/datasets/train.jsonl"},
        output_s3_uri="s3://team-output/results/",
        hyperparameters={"epochCount": 2},
        logging=logging,
        owner="team-dev",
        custom_model_key=key,
    )
    settings.update(overrides)
    return CustomizationJob(stack, construct_id, CustomizationJobProps(**settings))


def role_statements(stack: cdk.Stack, role: CustomizationServiceRole) -> list[dict]:
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    [policy] = [
        p
        for p in policies.values()
        if p["Properties"].get("Roles") == [{"Ref": stack.get_logical_id(role.node.default_child)}]
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def data_bucket(stack: cdk.Stack, key: EstateKey) -> SecureBucket:
    logs = SecureBucket(stack, "AccessLogs", SecureBucketProps(encryption_key=None, access_logs_bucket=None))
    return SecureBucket(stack, "Data", SecureBucketProps(encryption_key=key, access_logs_bucket=logs))


def test_a_key_other_than_an_estate_key_is_granted_in_the_roles_policy_through_bedrock(tmp_path):
    _, stack, key, logging = new_stack(tmp_path)
    models_key = kms.Key(stack, "ModelsKey", enable_key_rotation=True)
    role = CustomizationServiceRole(stack, "Role")
    job(stack, logging, role, models_key)
    [statement] = [s for s in role_statements(stack, role) if "kms:CreateGrant" in s["Action"]]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"]
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}}
    assert statement["Resource"] == stack.resolve(models_key.key_arn)


def test_a_role_never_granted_anything_gets_exactly_what_the_job_reads_writes_and_encrypts_with(tmp_path):
    app, stack, key, logging = new_stack(tmp_path)
    role = CustomizationServiceRole(stack, "Role")
    made = job(stack, logging, role, key)
    statements = role_statements(stack, role)
    by_action = {json.dumps(s["Action"]): s for s in statements}
    read = by_action['"s3:GetObject"']
    assert "team-data/datasets/train.jsonl" in json.dumps(read["Resource"])  # the object, not a prefix
    write = by_action['["s3:GetObject", "s3:PutObject"]']
    assert json.dumps(write["Resource"]).endswith(':s3:::team-output/results/*"]]}')
    listings = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert any("team-output" in json.dumps(s["Resource"]) and "Condition" not in s for s in listings)
    # The dataset's bucket is listed only at the object and its folder (the user guide grants the list).
    [data_listing] = [s for s in listings if "team-data" in json.dumps(s["Resource"])]
    assert data_listing["Condition"] == {"StringEquals": {"s3:prefix": ["datasets/train.jsonl", "datasets/"]}}
    # The EstateKey is granted in its key policy, through Bedrock only, as grant_custom_model_key does.
    [key_resource] = Template.from_stack(stack).find_resources("AWS::KMS::Key").values()
    [via_bedrock] = [
        st
        for st in key_resource["Properties"]["KeyPolicy"]["Statement"]
        if st.get("Sid") == "CustomizationRoleViaBedrock"
    ]
    assert via_bedrock["Condition"] == {"StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}}
    assert via_bedrock["Principal"] == {"AWS": stack.resolve(role.role_arn)}
    assert made.role_grants and all(grant.success for grant in made.role_grants)
    add_nag_packs(app)
    app.synth()  # every pack clean: the output prefix's wildcard is acknowledged with its reason


def test_grants_for_other_prefixes_do_not_stand_in_for_the_ones_the_job_uses(tmp_path):
    """The issue's case: the role may read train/ while the dataset lives under datasets/, and write
    jobs/ while the job writes results/: the job adds what it uses."""
    app, stack, key, logging = new_stack(tmp_path)
    data = data_bucket(stack, key)
    role = CustomizationServiceRole(stack, "Role")
    role.grant_read_data(data, "train/")
    role.grant_write_output(data, "jobs/")
    dataset_file = tmp_path / "train.jsonl"
    dataset_file.write_text('{"prompt": "a", "completion": "b"}\n')
    dataset = EstateDataset(
        stack, "Dataset", EstateDatasetProps(path=dataset_file, name="train", bucket=data, logging=logging)
    )
    job(
        stack,
        logging,
        role,
        key,
        training_data_config={"s3Uri": dataset.s3_uri},
        output_s3_uri=f"s3://{data.bucket_name}/results/",
    )
    text = json.dumps(role_statements(stack, role))
    assert f"datasets/train/{dataset.sha256[:16]}.jsonl" in text  # the dataset's object, where it is
    assert "/results/*" in text and "/jobs/*" in text and "/train/*" in text
    # The bucket's key through S3, for reading and writing: the job found the bucket by its name.
    assert text.count('"kms:ViaService": "s3.us-east-1.amazonaws.com"') >= 2


def test_what_the_role_already_allows_is_not_granted_again(tmp_path):
    def role_policy(with_job: bool) -> str:
        _, stack, key, logging = new_stack(tmp_path / str(with_job))
        data = data_bucket(stack, key)
        role = CustomizationServiceRole(stack, "Role")
        role.grant_read_data(data, "datasets/")
        role.grant_write_output(data, "jobs/")
        role.grant_custom_model_key(key)
        if with_job:
            made = job(
                stack,
                logging,
                role,
                key,
                training_data_config={"s3Uri": f"s3://{data.bucket_name}/datasets/train.jsonl"},
                output_s3_uri=f"s3://{data.bucket_name}/jobs/summarizer/",
            )
            assert made.role_grants == ()
        return json.dumps(role_statements(stack, role), sort_keys=True)

    assert role_policy(with_job=True) == role_policy(with_job=False)


def test_an_imported_role_is_refused_naming_each_missing_grant(tmp_path):
    _, stack, key, logging = new_stack(tmp_path)
    imported = iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::111111111111:role/bedrock-jobs", mutable=False)
    with pytest.raises(EstateConstructError) as caught:
        job(stack, logging, imported, key)
    message = str(caught.value)
    assert message.startswith("Team/Job: role: Team/Imported is imported, so the job cannot grant it what it needs:")
    assert "read s3://team-data/datasets/train.jsonl (s3:GetObject, and s3:ListBucket at it)" in message
    assert "write under s3://team-output/results/ (s3:ListBucket, s3:GetObject, s3:PutObject)" in message
    assert "use the custom model key Team/Key through Bedrock" in message
    assert message.endswith(
        "grant them where the role is defined (CustomizationServiceRole.grant_read_data, grant_write_output, "
        "grant_custom_model_key), then set role_access_granted=True; or pass a CustomizationServiceRole of this app"
    )
    assert isinstance(caught.value, ValueError)


def test_a_role_declared_to_allow_its_access_gets_nothing_added(tmp_path):
    app, stack, key, logging = new_stack(tmp_path)
    imported = iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::111111111111:role/bedrock-jobs", mutable=False)
    made = job(stack, logging, imported, key, role_access_granted=True)
    assert made.role_grants == ()
    role_policies = [
        p
        for p in Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
        if "bedrock-jobs" in json.dumps(p["Properties"].get("Roles", []))
    ]
    assert role_policies == []
    app.synth()


def test_an_output_uri_naming_a_whole_bucket_is_refused(tmp_path):
    _, stack, key, logging = new_stack(tmp_path)
    with pytest.raises(
        EstateConstructError, match=r"^Team/Job: output_s3_uri: 's3://team-output/' names a whole bucket"
    ):
        job(stack, logging, CustomizationServiceRole(stack, "Role"), key, output_s3_uri="s3://team-output/")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "s3://team-data",
            "Team/Job: training_data_config.s3Uri: 's3://team-data' names a whole bucket; name the JSONL object "
            "(s3://bucket/key) or a prefix ending in /",
        ),
        (
            "s3://a/train.jsonl",
            "Team/Job: training_data_config.s3Uri: 'a' is not an S3 bucket name (3-63 lowercase letters, digits, "
            "dots and hyphens, starting and ending with a letter or digit)",
        ),
    ],
    ids=["whole-bucket", "bucket-name"],
)
def test_a_training_uri_the_role_cannot_be_scoped_to_is_refused_naming_the_prop(tmp_path, uri, expected):
    _, stack, key, logging = new_stack(tmp_path)
    with pytest.raises(EstateConstructError) as caught:
        job(stack, logging, CustomizationServiceRole(stack, "Role"), key, training_data_config={"s3Uri": uri})
    assert str(caught.value) == expected
