"""The constructs as a library: used from a plain CDK app, without the estate's spec or stacks and
without importing the Lambda runtime's internals (issue 9, "The constructs as a library")."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

import constructs_lib
from constructs_lib import (
    CommitmentAcknowledgement,
    CustomizationJob,
    CustomizationJobProps,
    CustomizationServiceRole,
    EstateConstructError,
    EstateKey,
    EstateKeyProps,
    ProviderLogging,
    ServedModel,
    ServedModelProps,
    add_nag_packs,
)
from constructs_lib.spec import SpecError, parse_spec

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
ENV = cdk.Environment(account="111111111111", region="us-west-2")


def new_stack(
    tmp_path: Path, env: cdk.Environment | None = ENV
) -> tuple[cdk.App, cdk.Stack, EstateKey, ProviderLogging]:
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Team", env=env)
    key = EstateKey(stack, "Key", EstateKeyProps(alias="team/data", description="team data"))
    return app, stack, key, ProviderLogging(log_group_prefix="/team/", log_key=key)


def job_props(logging: ProviderLogging, role: iam.IRole, key: kms.IKey, **overrides) -> CustomizationJobProps:
    settings = dict(
        name="team-dev-summarizer",
        role=role,
        base_model=HAIKU,
        customization_type="FINE_TUNING",
        training_data_config={"s3Uri": "s3://team-data/train.jsonl"},
        output_s3_uri="s3://team-output/jobs/",
        hyperparameters={"epochCount": "2", "batchSize": "8"},
        logging=logging,
        owner="team-dev",
        custom_model_key=key,
    )
    settings.update(overrides)
    return CustomizationJobProps(**settings)


def synthesis_errors(app: cdk.App) -> str:
    with pytest.raises(Exception) as caught:
        app.synth()
    return str(caught.value)


def spec_problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="estate.yaml", base_dir=tmp_path)
    return [issue.render("estate.yaml") for issue in caught.value.issues]


def spec_with_job(job: str, serving: str = "", prices: str = "") -> str:
    return (
        f'name: acme-estate\n{prices}datasets:\n  train: {{s3Uri: "s3://shared-data/train.jsonl"}}\nstages:\n  dev:\n'
        f'    account: "111111111111"\n    region: us-west-2\n    jobs:\n      summarizer:\n{job}{serving}'
    )


# -- exports ------------------------------------------------------------------------------------
def test_every_construct_and_its_props_are_exported():
    from constructs import Construct

    for name in constructs_lib.__all__:
        assert getattr(constructs_lib, name) is not None, name
    constructs = [
        n
        for n in constructs_lib.__all__
        if isinstance(getattr(constructs_lib, n), type) and issubclass(getattr(constructs_lib, n), Construct)
    ]
    assert len(constructs) >= 12
    for name in constructs:
        if name not in ("EstateProvider",):  # the provider is made by EstateProvider.of, from ProviderLogging
            assert f"{name}Props" in constructs_lib.__all__ or name == "MonitoredModel", name


# -- names --------------------------------------------------------------------------------------
def test_a_job_derives_its_names_from_a_readable_name_and_what_shapes_the_model(tmp_path):
    def names(**overrides):
        _, stack, key, logging = new_stack(tmp_path)
        return CustomizationJob(
            stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key, **overrides)
        ).names

    first = names()
    assert first == names()  # the same inputs give the same names on every synthesis
    assert first.readable == "team-dev-summarizer" and first.job_name.startswith("team-dev-summarizer-")
    assert names(hyperparameters={"batchSize": "8", "epochCount": "2"}) == first  # order does not matter
    assert names(hyperparameters={"epochCount": 2, "batchSize": 8.0}) == first  # numbers travel as the API's strings
    assert names(job_tags={"team": "ml"}, removal="destroy") == first  # tags and removal change in place
    assert names(hyperparameters={"epochCount": "3", "batchSize": "8"}).digest != first.digest
    assert names(training_data_config={"s3Uri": "s3://team-data/train-v2.jsonl"}).digest != first.digest
    assert names(name="team dev / summarizer").readable == "team-dev-summarizer"


def test_a_library_job_reading_an_estate_dataset_trains_again_when_the_file_changes(tmp_path):
    """The dataset's S3 URI is a CloudFormation reference, the same whatever the file holds: the job
    names it by its content, as the estate's own jobs do, so new data is a new job (replacement)."""
    from aws_cdk import aws_s3 as s3

    from constructs_lib import EstateDataset, EstateDatasetProps

    def names(content: str, job_tags: dict[str, str] | None = None):
        data = tmp_path / "train.jsonl"
        data.write_text(content)
        _, stack, key, logging = new_stack(tmp_path)
        bucket = s3.Bucket(stack, "Training")
        dataset = EstateDataset(
            stack, "Train", EstateDatasetProps(path=data, name="train", bucket=bucket, logging=logging)
        )
        props = job_props(
            logging,
            CustomizationServiceRole(stack, "Role"),
            key,
            training_data_config={"s3Uri": dataset.s3_uri},
            job_tags=job_tags or {},
        )
        return CustomizationJob(stack, "Job", props).names

    first = names('{"prompt": "a", "completion": "b"}\n')
    assert names('{"prompt": "a", "completion": "b"}\n', job_tags={"team": "ml"}) == first
    assert names('{"prompt": "a", "completion": "c"}\n').digest != first.digest


def test_a_second_job_logging_elsewhere_in_the_same_stack_is_named_in_the_error(tmp_path):
    _, stack, key, logging = new_stack(tmp_path)
    role = CustomizationServiceRole(stack, "Role")
    CustomizationJob(stack, "First", job_props(logging, role, key))
    other = ProviderLogging(log_group_prefix="/other/", log_key=key)
    with pytest.raises(
        EstateConstructError, match=r"^Team/Second: logging: the stack's EstateProvider already logs under"
    ):
        CustomizationJob(stack, "Second", job_props(other, role, key, name="second"))


def test_the_job_names_path_of_the_estate_stacks_still_works(tmp_path):
    from constructs_lib import JobNames
    from estate_runtime.naming import JobNames as RuntimeJobNames

    assert JobNames is RuntimeJobNames
    _, stack, key, logging = new_stack(tmp_path)
    given = JobNames("acme-dev-summarizer", "c" * 64)
    job = CustomizationJob(
        stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key, name=None, names=given)
    )
    assert job.names == given
    properties = Template.from_stack(stack).find_resources("Custom::BedrockCustomizationJob")
    [resource] = properties.values()
    assert resource["Properties"]["JobName"] == given.job_name
    with pytest.raises(EstateConstructError, match="Team/Both: name: give exactly one of name"):
        CustomizationJob(stack, "Both", job_props(logging, CustomizationServiceRole(stack, "Role2"), key, names=given))


def test_a_served_model_takes_the_job_construct_its_names_and_base_model(tmp_path):
    _, stack, key, logging = new_stack(tmp_path)
    job = CustomizationJob(stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key))
    served = ServedModel(
        stack,
        "Served",
        ServedModelProps(
            kind="provisioned", name="team-dev-pt", logging=logging, owner="team-dev", custom_model_key=key, job=job
        ),
    )
    assert served.base_model == HAIKU
    template = Template.from_stack(stack)
    [throughput] = template.find_resources("Custom::BedrockProvisionedThroughput").values()
    assert throughput["Properties"]["Model"] == {
        "JobNameParts": {"Readable": job.names.readable, "Digest": job.names.digest}
    }
    assert stack.get_logical_id(job.resource.node.default_child) in throughput["DependsOn"]
    policy = json.dumps(template.find_resources("AWS::IAM::ManagedPolicy"))
    assert f"foundation-model/{HAIKU}" in policy  # the throughput's base model, not any foundation model


def test_both_constructs_take_the_custom_model_key_as_a_key():
    assert {f.name: f.type for f in fields(CustomizationJobProps)}["custom_model_key"] == "kms.IKey | None"
    assert {f.name: f.type for f in fields(ServedModelProps)}["custom_model_key"] == "kms.IKey"


def _job(base_model: str, hyperparameters: str | None = None) -> str:
    """A spec job's lines (under ``jobs.<name>:``) for the same mistake made through the spec."""
    text = f"        type: FINE_TUNING\n        baseModel: {base_model}\n        trainingData: {{dataset: train}}\n"
    return text + (f"        hyperparameters: {hyperparameters}\n" if hyperparameters else "")


# -- catalog checks and the commitment guard ------------------------------------------------------
@pytest.fixture(autouse=True)
def before_claude_3_haiku_went_legacy(monkeypatch):
    """These tests compare the constructs' messages with the spec's on Claude 3 Haiku as it stood
    before its Legacy date (2026-03-10); the lifecycle is tested in tests/spec/test_lifecycle_spec.py."""
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-01-15")


@pytest.mark.parametrize(
    ("overrides", "spec_job"),
    [
        ({"base_model": "anthropic.claude-3-haiku-20240307-v1:0"}, _job("anthropic.claude-3-haiku-20240307-v1:0")),
        ({"hyperparameters": {"batchSize": "2"}}, _job(HAIKU, "{batchSize: 2}")),
        ({"hyperparameters": {"epochs": "2"}}, _job(HAIKU, "{epochs: 2}")),
    ],
    ids=["unknown-base-model", "out-of-range-hyperparameter", "unknown-hyperparameter"],
)
def test_a_job_the_catalog_rejects_is_refused_with_the_specs_message(tmp_path, overrides, spec_job):
    _, stack, key, logging = new_stack(tmp_path)
    with pytest.raises(EstateConstructError) as caught:
        CustomizationJob(stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key, **overrides))
    errors = str(caught.value)
    [spec_problem] = spec_problems(spec_with_job(spec_job), tmp_path)
    message = spec_problem.split("stages.dev.jobs.summarizer.", 1)[1]  # "<field>: <message>"
    # The same message, naming the prop and the switch as the props spell them.
    expected = message.replace("set catalogChecks: false", "set catalog_checks=False").replace(
        "baseModel:", "base_model:"
    )
    assert errors == f"Team/Job: {expected}", (expected, errors)
    assert "catalogChecks" not in errors


def test_catalog_checks_can_be_turned_off_and_skip_the_region_when_it_is_unknown(tmp_path):
    app, stack, key, logging = new_stack(tmp_path)
    CustomizationJob(
        stack,
        "Job",
        job_props(
            logging,
            CustomizationServiceRole(stack, "Role"),
            key,
            base_model="acme.private-model-v1",
            catalog_checks=False,
        ),
    )
    app.synth()
    app, stack, key, logging = new_stack(tmp_path, env=None)  # an environment-agnostic stack
    CustomizationJob(stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key))
    app.synth()


def committed(tmp_path: Path, ack: CommitmentAcknowledgement | None) -> cdk.App:
    app, stack, key, logging = new_stack(tmp_path)
    job = CustomizationJob(stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key))
    ServedModel(
        stack,
        "Served",
        ServedModelProps(
            kind="provisioned",
            name="team-dev-pt",
            logging=logging,
            owner="team-dev",
            custom_model_key=key,
            job=job,
            commitment="OneMonth",
            commitment_acknowledgement=ack,
            prices={HAIKU: {"OneMonth": 30}},
        ),
    )
    return app


@pytest.mark.parametrize(
    ("ack", "spec_ack"),
    [
        (None, ""),
        (
            CommitmentAcknowledgement(term="OneMonth", model_units=1, monthly_usd=100),
            ", acknowledge: {term: OneMonth, modelUnits: 1, monthlyUsd: 100}",
        ),
        (
            CommitmentAcknowledgement(term="SixMonths", model_units=1, monthly_usd=30000),
            ", acknowledge: {term: SixMonths, modelUnits: 1, monthlyUsd: 30000}",
        ),
        (
            CommitmentAcknowledgement(term="OneMonth", model_units=2, monthly_usd=30000),
            ", acknowledge: {term: OneMonth, modelUnits: 2, monthlyUsd: 30000}",
        ),
    ],
    ids=["no-acknowledgement", "too-little", "wrong-term", "wrong-units"],
)
def test_the_commitment_guard_refuses_with_the_specs_message_in_the_props_words(tmp_path, ack, spec_ack):
    from constructs_lib.serving.served_model import _in_props_words

    with pytest.raises(EstateConstructError) as caught:
        committed(tmp_path, ack)
    errors = str(caught.value)
    serving = f"    serving:\n      summarizer:\n        model: {{job: summarizer}}\n        provisioned: {{modelUnits: 1, commitment: OneMonth{spec_ack}}}\n"
    job = f"        type: FINE_TUNING\n        baseModel: {HAIKU}\n        trainingData: {{dataset: train}}\n"
    [spec_problem] = spec_problems(
        spec_with_job(job, serving, prices=f"prices:\n  {HAIKU}: {{OneMonth: 30}}\n"), tmp_path
    )
    message = spec_problem.split("serving.summarizer.provisioned.", 1)[1].split(": ", 1)[1]
    assert errors.startswith("Team/Served: ") and errors.endswith(_in_props_words(message)), (message, errors)
    for spec_word in ("acknowledge:", "modelUnits", "monthlyUsd", "releaseOnRemoval"):
        assert spec_word not in errors


def test_every_commitment_guard_message_is_said_in_the_props_words():
    from constructs_lib.serving.served_model import _in_props_words
    from estate_runtime.pricing import Cost, commitment_problems

    priced, unknown = Cost(30.0, "spec"), Cost(None, "unknown")
    cases = [
        dict(price=unknown, base_model=None),
        dict(price=unknown, base_model=HAIKU),
        dict(price=priced),
        dict(price=priced, acknowledged_term="OneMonth", acknowledged_units=2, acknowledged_monthly_usd=1.0),
        dict(price=priced, acknowledged_term="SixMonths", acknowledged_units=1, acknowledged_monthly_usd=1.0),
        dict(price=priced, acknowledged_term="OneMonth", acknowledged_units=1, acknowledged_monthly_usd=1.0),
    ]
    seen = set()
    for case in cases:
        arguments = dict(acknowledged_term=None, acknowledged_units=None, acknowledged_monthly_usd=None) | case
        for _, message in commitment_problems(commitment="OneMonth", model_units=1, **arguments):
            said = _in_props_words(message)
            seen.add(said)
            for spec_word in ("acknowledge:", "modelUnits", "monthlyUsd", "releaseOnRemoval", "in the spec", "(arn)"):
                assert spec_word not in said, said
    assert len(seen) == len(cases)


def test_on_demand_serving_where_the_catalog_refuses_it_is_refused_with_the_specs_message(tmp_path):
    _, stack, key, logging = new_stack(tmp_path)
    job = CustomizationJob(stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key))
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(
            stack,
            "Served",
            ServedModelProps(
                kind="on-demand", name="team-dev-od", logging=logging, owner="team-dev", custom_model_key=key, job=job
            ),
        )
    errors = str(caught.value)
    job_text = f"        type: FINE_TUNING\n        baseModel: {HAIKU}\n        trainingData: {{dataset: train}}\n"
    serving = "    serving:\n      summarizer:\n        model: {job: summarizer}\n        onDemand: {}\n"
    [spec_problem] = spec_problems(spec_with_job(job_text, serving), tmp_path)
    message = spec_problem.split("serving.summarizer.onDemand: ", 1)[1]
    assert message.startswith("custom models of")
    assert errors == f"Team/Served: kind: {message}; serve it provisioned instead", (message, errors)


def test_an_acknowledged_commitment_synthesizes(tmp_path):
    committed(tmp_path, CommitmentAcknowledgement(term="OneMonth", model_units=1, monthly_usd=21900)).synth()
    with pytest.raises(EstateConstructError, match=r"\$21,900\.00 per month"):
        committed(tmp_path / "none", None)


# -- log group keys -----------------------------------------------------------------------------
def cloudwatch_statements(stack: cdk.Stack) -> list[dict]:
    keys = Template.from_stack(stack).find_resources("AWS::KMS::Key")
    return [
        s
        for key in keys.values()
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal", {}).get("Service", "").startswith("logs.")
    ]


def test_a_key_of_the_app_is_granted_to_cloudwatch_logs_for_the_prefix_once(tmp_path):
    app, stack, key, logging = new_stack(tmp_path)
    role = CustomizationServiceRole(stack, "Role")
    CustomizationJob(stack, "Job", job_props(logging, role, key))
    key.grant_cloudwatch_logs("/team/")  # granting it again adds nothing
    [statement] = cloudwatch_statements(stack)
    assert statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]["Fn::Join"][1][-1].endswith(
        ":log-group:/team/*"
    )

    plain_app = cdk.App(outdir=str(tmp_path / "plain"))
    plain = cdk.Stack(plain_app, "Plain", env=ENV)
    plain_key = kms.Key(plain, "Key", enable_key_rotation=True)
    CustomizationJob(
        plain,
        "Job",
        job_props(
            ProviderLogging(log_group_prefix="/plain/", log_key=plain_key),
            CustomizationServiceRole(plain, "Role"),
            plain_key,
        ),
    )
    assert len(cloudwatch_statements(plain)) == 1


def test_an_imported_log_key_is_refused_unless_its_policy_is_declared_to_allow_logs(tmp_path):
    app, stack, key, _ = new_stack(tmp_path)
    imported = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:us-west-2:111111111111:key/logs")
    with pytest.raises(EstateConstructError) as caught:
        CustomizationJob(
            stack,
            "Job",
            job_props(
                ProviderLogging(log_group_prefix="/team/", log_key=imported),
                CustomizationServiceRole(stack, "Role"),
                key,
            ),
        )
    errors = str(caught.value)
    assert "log groups under '/team/' are encrypted with an imported key" in errors
    assert "logs.us-west-2.amazonaws.com" in errors and "key_policy_allows_logs=True" in errors

    app, stack, key, _ = new_stack(tmp_path)
    imported = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:us-west-2:111111111111:key/logs")
    declared = ProviderLogging(log_group_prefix="/team/", log_key=imported, key_policy_allows_logs=True)
    CustomizationJob(stack, "Job", job_props(declared, CustomizationServiceRole(stack, "Role"), key))
    app.synth()


# -- invoking a served model under the nag packs ---------------------------------------------------
def findings(app: cdk.App) -> set[str]:
    try:
        app.synth()
    except Exception:
        pass
    report = (
        json.loads((Path(app.outdir) / "validation-report.json").read_text())
        if (Path(app.outdir) / "validation-report.json").exists()
        else {}
    )
    return {
        f"{violation['ruleName']}@{construct['constructPath']}"
        for plugin in report.get("pluginReports", [])
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    }


def served_app(tmp_path: Path) -> tuple[cdk.App, cdk.Stack, ServedModel, iam.Role]:
    app, stack, key, logging = new_stack(tmp_path)
    job = CustomizationJob(stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key))
    served = ServedModel(
        stack,
        "Served",
        ServedModelProps(
            kind="provisioned", name="team-dev-pt", logging=logging, owner="team-dev", custom_model_key=key, job=job
        ),
    )
    app_role = iam.Role(stack, "AppRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    add_nag_packs(app)
    return app, stack, served, app_role


def test_grant_invoke_to_role_passes_every_pack(tmp_path):
    app, stack, served, app_role = served_app(tmp_path)
    policy = served.grant_invoke_to_role(app_role)
    assert served.grant_invoke_to_role(app_role) is policy  # one policy per role
    app.synth()  # fails on any unacknowledged finding of the five packs
    [document] = [
        p["Properties"]["PolicyDocument"]
        for p in Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
        if p["Properties"].get("Roles") == [{"Ref": stack.get_logical_id(app_role.node.default_child)}]
    ]
    actions = [s["Action"] for s in document["Statement"]]
    assert actions == [
        ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        ["kms:Decrypt", "kms:GenerateDataKey"],
    ]


def test_grant_invoke_needs_exactly_the_documented_inline_policy_acknowledgements(tmp_path):
    app, _, served, app_role = served_app(tmp_path)
    served.grant_invoke(app_role)
    assert findings(app) == {
        f"{pack}-IAMNoInlinePolicy@Team/AppRole/DefaultPolicy/Resource"
        for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
    }
    docs = (Path(constructs_lib.__file__).parent / "README.md").read_text()
    for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"):
        assert f"{pack}-IAMNoInlinePolicy" in docs


# -- documentation --------------------------------------------------------------------------------
LIBRARY_README = Path(constructs_lib.__file__).parent / "README.md"


def test_every_exported_construct_has_its_section_in_the_library_readme():
    from constructs import Construct

    headings = set(re.findall(r"^## (.+)$", LIBRARY_README.read_text(), re.MULTILINE))
    documented = " ".join(headings)
    for name in constructs_lib.__all__:
        exported = getattr(constructs_lib, name)
        if isinstance(exported, type) and issubclass(exported, Construct):
            assert name in documented, f"constructs_lib/README.md has no section for {name}"
    assert "constructs_lib/README.md" in (Path(constructs_lib.__file__).parents[1] / "README.md").read_text()


def test_the_library_readme_usage_example_synthesizes_under_every_pack(tmp_path):
    [example] = [
        b for b in re.findall(r"```python\n(.*?)```", LIBRARY_README.read_text(), re.DOTALL) if "app.synth()" in b
    ]
    runnable = example.replace("app = cdk.App()", f"app = cdk.App(outdir={str(tmp_path)!r})")
    assert runnable != example
    exec(compile(runnable, "constructs_lib/README.md", "exec"), {})  # raises on any unacknowledged finding
    assert (tmp_path / "Team.template.json").exists()


def test_a_model_share_takes_the_job_construct(tmp_path):
    from constructs_lib import ModelShare, ModelShareProps

    _, stack, key, logging = new_stack(tmp_path)
    job = CustomizationJob(stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key))
    ModelShare(
        stack,
        "Share",
        ModelShareProps(
            name="team-dev-summarizer",
            job=job,
            accounts=["222222222222"],
            logging=logging,
            owner="team-dev",
            share_name_prefix="team-dev-",
        ),
    )
    [share] = Template.from_stack(stack).find_resources("Custom::BedrockModelShare").values()
    assert share["Properties"]["Model"] == {
        "JobNameParts": {"Readable": job.names.readable, "Digest": job.names.digest}
    }


def test_invocation_logging_log_group_must_sit_under_the_granted_prefix(tmp_path):
    from constructs_lib import InvocationLogging, InvocationLoggingProps, SecureBucket, SecureBucketProps

    _, stack, key, _ = new_stack(tmp_path)
    bucket = SecureBucket(stack, "Logs", SecureBucketProps(encryption_key=None, access_logs_bucket=None))
    with pytest.raises(ValueError, match="must start with log_group_prefix '/team/'"):
        InvocationLogging(
            stack,
            "Logging",
            InvocationLoggingProps(
                bucket=bucket, key=key, log_group_name="/other/model-invocations", log_group_prefix="/team/"
            ),
        )


def test_invocation_logging_may_pass_exactly_the_named_team_delivery_role_to_bedrock(tmp_path):
    from constructs_lib import InvocationLogging, InvocationLoggingProps, SecureBucket, SecureBucketProps

    _, stack, key, _ = new_stack(tmp_path)
    bucket = SecureBucket(stack, "Logs", SecureBucketProps(encryption_key=None, access_logs_bucket=None))
    team_role = "arn:aws:iam::111111111111:role/team-bedrock-logs"

    def logging(id: str, role: str, adopt_existing: bool = True) -> InvocationLogging:
        return InvocationLogging(
            stack,
            id,
            InvocationLoggingProps(
                bucket=bucket,
                key=key,
                log_group_name="/team/model-invocations",
                log_group_prefix="/team/",
                adopt_existing=adopt_existing,
                adopted_delivery_role_arn=role,
            ),
        )

    with pytest.raises(ValueError, match="without adopt_existing nothing is adopted"):
        logging("NothingAdopted", team_role, adopt_existing=False)

    with pytest.raises(ValueError, match="adopted_delivery_role_arn 'team-bedrock-logs' must be an IAM role ARN"):
        logging("Malformed", "team-bedrock-logs")
    with pytest.raises(ValueError, match="is in account 999999999999, not this stage's account 111111111111"):
        logging("Foreign", "arn:aws:iam::999999999999:role/team-bedrock-logs")
    with pytest.raises(ValueError, match="is in partition aws-cn, not this stage's aws"):
        logging("OtherPartition", "arn:aws-cn:iam::111111111111:role/team-bedrock-logs")
    made = logging("Logging", team_role)
    template = Template.from_stack(stack)
    [resource] = template.find_resources("Custom::BedrockInvocationLogging").values()
    assert resource["Properties"]["AdoptedDeliveryRoleArn"] == team_role
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "iam:PassRole"
    ]
    [passing] = statements
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}
    assert team_role in passing["Resource"] and len(passing["Resource"]) == 2  # and the estate's own delivery role
    assert made.delivery_role is not None


def test_numeric_hyperparameters_reach_the_api_as_strings(tmp_path):
    _, stack, key, logging = new_stack(tmp_path)
    CustomizationJob(
        stack,
        "Job",
        job_props(
            logging,
            CustomizationServiceRole(stack, "Role"),
            key,
            hyperparameters={"epochCount": 2, "learningRateMultiplier": 1.5},
        ),
    )
    [job] = Template.from_stack(stack).find_resources("Custom::BedrockCustomizationJob").values()
    assert job["Properties"]["HyperParameters"] == {"epochCount": "2", "learningRateMultiplier": "1.5"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "ondemand"}, "S/Served: kind: must be one of 'provisioned', 'on-demand', got 'ondemand' (a str)"),
        ({"model_units": 0}, "S/Served: model_units: must be at least 1, got 0"),
        (
            {"commitment": "onemonth"},
            "S/Served: commitment: must be None (hourly), 'OneMonth' or 'SixMonths', got 'onemonth'",
        ),
    ],
    ids=["kind-typo", "no-units", "commitment-typo"],
)
def test_a_served_model_refuses_values_a_typo_would_turn_into_another_resource(overrides, message):
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms

    from constructs_lib import JobNames, ProviderLogging, ServedModel, ServedModelProps

    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="111111111111", region="us-east-1"))
    key = kms.Key(stack, "Key")
    props = {
        "kind": "provisioned",
        "name": "team-dev-x",
        "owner": "team-dev",
        "custom_model_key": key,
        "logging": ProviderLogging(log_group_prefix="/team/", log_key=key),
        "job": JobNames("team-dev-x", "a" * 64),
    }
    with pytest.raises(EstateConstructError, match=re.escape(message)):
        ServedModel(stack, "Served", ServedModelProps(**{**props, **overrides}))


def test_an_rft_grader_and_job_stand_alone_under_every_pack(tmp_path):
    """An RftGrader and a reinforcement fine-tuning job from a plain app: the role may invoke the
    grader's version, the job is given that version, the log group is encrypted; every pack clean."""
    from constructs_lib import RftGrader, RftGraderProps

    app, stack, key, logging = new_stack(tmp_path, cdk.Environment(account="111111111111", region="us-east-1"))
    (tmp_path / "grade.py").write_text("def lambda_handler(event, context):\n    return []\n")
    grader = RftGrader(
        stack,
        "Grader",
        RftGraderProps(name="team-grader", code=tmp_path / "grade.py", logging=logging, runtime="python3.13"),
    )
    role = CustomizationServiceRole(stack, "Role")
    role.grant_invoke_graders([grader.grader_arn])
    rft = {"graderConfig": {"lambdaGrader": {"lambdaArn": grader.grader_arn}}, "hyperParameters": {"epochCount": 2}}
    job = CustomizationJob(
        stack,
        "Arith",
        CustomizationJobProps(
            name="team-arith",
            role=role,
            base_model="amazon.nova-2-lite-v1:0:256k",
            customization_type="REINFORCEMENT_FINE_TUNING",
            training_data_config={"s3Uri": "s3://team-data/arith.jsonl"},
            output_s3_uri="s3://team-out/arith/",
            owner="team",
            logging=logging,
            rft_config=rft,
        ),
    )
    add_nag_packs(app)
    app.synth()  # raises on any unacknowledged finding
    template = Template.from_stack(stack)
    [version_id] = template.find_resources("AWS::Lambda::Version")
    props = template.find_resources("Custom::BedrockCustomizationJob")
    [resource] = props.values()
    assert resource["Properties"]["CustomizationConfig"]["rftConfig"]["graderConfig"]["lambdaGrader"]["lambdaArn"] == {
        "Ref": version_id
    }
    assert resource["Properties"]["CustomizationConfig"]["rftConfig"]["hyperParameters"] == {"epochCount": 2}
    key_arn = {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": "/team/graders/team-grader", "KmsKeyId": key_arn}
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "team-grader",
            "Runtime": "python3.13",
            "Timeout": 300,
            "MemorySize": 512,
            "Handler": "grade.lambda_handler",
        },
    )
    policies = template.find_resources("AWS::IAM::ManagedPolicy").values()
    [invoke] = [
        s
        for p in policies
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "lambda:InvokeFunction"
    ]
    assert invoke["Resource"] == {
        "Ref": version_id
    }  # exactly the version the job is given, on the service role's one policy
    with pytest.raises(ValueError, match="needs at least one grader ARN"):
        role.grant_invoke_graders([])
    assert job.names.readable == "team-arith"
