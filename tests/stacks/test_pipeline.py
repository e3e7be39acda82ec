"""The delivery pipeline and the multi-account layout it deploys."""

from __future__ import annotations

import json
import re

import pytest

from ..conftest import ROOT


@pytest.fixture(scope="module")
def pipeline(default_estate):
    return default_estate.stack("Delivery").template


def resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def stages_of(template):
    [pipeline] = resources(template, "AWS::CodePipeline::Pipeline").values()
    return {s["Name"]: s["Actions"] for s in pipeline["Properties"]["Stages"]}


def test_source_synth_then_stages_in_spec_order(pipeline):
    names = list(stages_of(pipeline))
    assert names[:2] == ["Source", "Build"]
    assert names.index("dev") < names.index("prod")
    [source] = stages_of(pipeline)["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "my-org/bedrock-estate"
    assert source["Configuration"]["BranchName"] == "main"


def test_synth_runs_the_whole_test_suite_before_synthesizing(pipeline):
    projects = resources(pipeline, "AWS::CodeBuild::Project")
    synth = next(p for k, p in projects.items() if "Synth" in k)
    spec = synth["Properties"]["Source"]["BuildSpec"]
    assert spec.index("make test") < spec.index("cdk synth")


def test_protected_prod_needs_a_manual_approval_before_any_deployment(pipeline):
    prod = stages_of(pipeline)["prod"]
    approval = next(
        a for a in prod if a["ActionTypeId"]["Category"] == "Approval" and a["Name"].startswith("Approve-prod")
    )
    first_deploy = min(a["RunOrder"] for a in prod if a["ActionTypeId"]["Provider"] == "CloudFormation")
    assert approval["RunOrder"] < first_deploy
    dev = stages_of(pipeline)["dev"]
    assert not any(a["Name"].startswith("Approve-") for a in dev)  # dev is not protected


def test_every_stage_is_checked_for_broadened_permissions_before_it_deploys(pipeline):
    for stage in ("dev", "prod"):
        actions = stages_of(pipeline)[stage]
        check = next(a for a in actions if a["Name"].startswith("CheckBroadening"))
        first_deploy = min(a["RunOrder"] for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation")
        assert check["RunOrder"] < first_deploy
    # The check notifies the pipeline's own encrypted topic.
    [topic] = resources(pipeline, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]


def test_each_stage_is_verified_after_it_deploys_through_the_read_only_lookup_role(pipeline):
    projects = resources(pipeline, "AWS::CodeBuild::Project")
    for stage, account, region in (("dev", "111111111111", "us-east-1"), ("prod", "222222222222", "us-east-1")):
        verify = next(p for k, p in projects.items() if f"Verify{stage}" in k)
        spec = verify["Properties"]["Source"]["BuildSpec"]
        assert f"constructs_lib.tools.verify --spec estate.yaml --stage {stage}" in spec
        assert f"cdk-hnb659fds-lookup-role-{account}-{region}" in spec
        actions = stages_of(pipeline)[stage]
        verify_order = next(a["RunOrder"] for a in actions if a["Name"].startswith(f"Verify-{stage}"))
        assert verify_order > max(a["RunOrder"] for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation")


def test_artifacts_are_encrypted_with_rotated_keys_for_cross_account_deployment(pipeline):
    [pipe] = resources(pipeline, "AWS::CodePipeline::Pipeline").values()
    stores = pipe["Properties"]["ArtifactStores"]
    assert {s["Region"] for s in stores} == {"us-west-2", "us-east-1"}
    assert all(s["ArtifactStore"]["EncryptionKey"]["Type"] == "KMS" for s in stores)
    for key in resources(pipeline, "AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True


def test_artifact_buckets_are_versioned_access_logged_and_ours_in_every_region(default_estate, pipeline):
    buckets = resources(pipeline, "AWS::S3::Bucket")
    [artifacts] = [b for k, b in buckets.items() if k.startswith("Artifacts")]
    assert artifacts["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "LoggingConfiguration" in artifacts["Properties"]
    replica = default_estate.stack("DeliveryArtifacts-us-east-1").template
    [bucket] = [b for k, b in resources(replica, "AWS::S3::Bucket").items() if k.startswith("Artifacts")]
    assert bucket["Properties"]["BucketName"] == "bedrock-estate-delivery-artifacts-333333333333-us-east-1"
    assert (
        bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
        and "LoggingConfiguration" in bucket["Properties"]
    )
    # prod's CDK deploy role reads what the pipeline replicates into us-east-1.
    assert "cdk-hnb659fds-deploy-role-222222222222-us-east-1" in json.dumps(resources(replica, "AWS::S3::BucketPolicy"))
    assert "cdk-hnb659fds-deploy-role-222222222222-us-east-1" in json.dumps(resources(replica, "AWS::KMS::Key"))


def test_the_source_action_may_use_the_renamed_connection(pipeline):
    # "Connections rename": the action prefix must match the connection ARN's (codeconnections).
    connection = "arn:aws:codeconnections:us-west-2:333333333333:connection/00000000-0000-0000-0000-000000000000"
    grants = [
        st
        for policy in resources(pipeline, "AWS::IAM::Policy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if st.get("Resource") == connection
    ]
    assert any("codeconnections:UseConnection" in st["Action"] for st in grants)


def test_the_pipeline_installs_the_cli_versions_the_repository_locks(pipeline):
    pins = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    text = json.dumps(resources(pipeline, "AWS::CodeBuild::Project"))
    assert f"aws-cdk@{pins['aws-cdk']}" in text and f"cdk-assets@{pins['cdk-assets']}" in text
    assert "npm install -g aws-cdk\\" not in text and 'cdk-assets\\"' not in text  # nothing unpinned


def test_completed_jobs_restart_the_pipeline_from_the_target_accounts_only(pipeline):
    policies = resources(pipeline, "AWS::Events::EventBusPolicy")
    principals = sorted(p["Properties"]["Statement"]["Principal"]["AWS"] for p in policies.values())
    assert principals == ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]
    for p in policies.values():
        assert p["Properties"]["Statement"]["Condition"] == {"StringEquals": {"events:source": "aws.bedrock"}}
    [rule] = [
        r
        for r in resources(pipeline, "AWS::Events::Rule").values()
        if r["Properties"].get("Name") == "bedrock-estate-rerun-on-job-completion"
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail"]["jobStatus"] == ["Completed"] and pattern["account"] == ["111111111111", "222222222222"]


def without_promotion_grants(template):
    """The template minus what promotion declares about the other account: the owner's key policy
    statement for it, the share's principals, the copy's source and its handler's grants on it."""
    template = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::KMS::Key":
            statements = props["KeyPolicy"]["Statement"]
            statements[:] = [st for st in statements if st.get("Sid") != "PromotionCopiesViaBedrock"]
        elif resource["Type"] == "Custom::BedrockModelShare":
            props.pop("Principals")
        elif resource["Type"] == "AWS::IAM::ManagedPolicy" and props.get("Description", "").endswith(
            "Custom::BedrockModelShare custom-resource handler"
        ):
            for st in props["PolicyDocument"]["Statement"]:
                st.get("Condition", {}).get("StringEquals", {}).pop(
                    "ram:Principal", None
                )  # share only with the declared accounts
        elif resource["Type"] == "Custom::BedrockModelCopy":
            props.pop("Source")
        elif resource["Type"] == "AWS::IAM::ManagedPolicy" and props.get("Description", "").endswith(
            "Custom::BedrockModelCopy custom-resource handler"
        ):
            statements = props["PolicyDocument"]["Statement"]
            statements[:] = [
                st
                for st in statements
                if st["Action"] != "bedrock:CreateModelCopyJob" and not str(st["Resource"]).endswith(":key/*")
            ]
    return template


def test_stages_hold_no_reference_to_another_stage(default_estate):
    accounts = {"dev": "111111111111", "prod": "222222222222"}
    pipeline_account = "333333333333"
    for stack in default_estate.stacks:
        if not stack.stage:
            continue
        text = json.dumps(stack.template)
        # Later stacks import only their own stage's foundation exports.
        qualifier = f"bedrock-estate-{stack.stage}-foundation-"
        imports = re.findall(r'"Fn::ImportValue": "([^"]+)"', text)
        assert all(name.startswith(qualifier) for name in imports), (stack.stack_id, imports)
        assert "Fn::GetStackOutput" not in text, stack.stack_id
        # The one documented exception: model promotion's cross-account grants (tests/stacks/test_promotion.py).
        foreign = set(re.findall(r"\b\d{12}\b", json.dumps(without_promotion_grants(stack.template)))) - {
            accounts[stack.stage],
            pipeline_account,
        }
        assert not foreign, (stack.stack_id, foreign)
        # The pipeline account appears only as the target of completed-job forwarding, and in the
        # trust of the stage's gate role (the pipeline's gate runner, by name).
        gate_trust = f"arn:aws:iam::{pipeline_account}:role/bedrock-estate-delivery-gate-{stack.stage}"
        forwarding = f"arn:aws:events:us-west-2:{pipeline_account}:event-bus/default"
        if pipeline_account in text:
            assert stack.stack_id.endswith(("/Customization", "/Serving")), stack.stack_id
            assert text.count(pipeline_account) == text.count(forwarding) + text.count(gate_trust) + text.count(
                f"arn:aws:iam::{pipeline_account}:root"
            )
            assert text.count(f"arn:aws:iam::{pipeline_account}:root") == text.count(gate_trust)


def test_a_stage_deploys_on_its_own(default_estate):
    manifest = json.loads((default_estate.directory / "manifest.json").read_text())
    assert {"assembly-dev", "assembly-prod"} <= set(manifest["artifacts"])  # cdk deploy 'dev/*' selects these


def test_the_estates_addresses_hear_of_broadened_permissions(tmp_path):
    import aws_cdk as cdk
    import yaml

    from constructs_lib.spec import parse_spec
    from stacks.pipeline_stack import PipelineStack

    from ..conftest import DEFAULT_FIXTURE, FIXTURES, cdk_context

    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    doc["notifications"] = {"emails": ["ml-platform@example.com"]}
    spec = parse_spec(yaml.safe_dump(doc), source="estate.yaml", base_dir=FIXTURES)
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    stack = PipelineStack(
        app, "Delivery", spec=spec, base_dir=FIXTURES, env=cdk.Environment(account="333333333333", region="us-west-2")
    )
    template = cdk.assertions.Template.from_stack(stack).to_json()
    [subscription] = resources(template, "AWS::SNS::Subscription").values()
    [topic_id] = resources(template, "AWS::SNS::Topic")
    assert subscription["Properties"] == {
        "Protocol": "email",
        "TopicArn": {"Ref": topic_id},
        "Endpoint": "ml-platform@example.com",
    }


# -- the evaluation gate -----------------------------------------------------------------------------
def test_dev_is_gated_after_it_is_verified_and_before_prod_deploys(pipeline):
    stages = stages_of(pipeline)
    dev = stages["dev"]
    [gate] = [a for a in dev if a["Name"].startswith("Gate-dev")]
    verify = next(a for a in dev if a["Name"].startswith("Verify-dev"))
    assert (
        gate["RunOrder"]
        > verify["RunOrder"]
        > max(a["RunOrder"] for a in dev if a["ActionTypeId"]["Provider"] == "CloudFormation")
    )
    assert gate["ActionTypeId"]["Provider"] == "CodeBuild" and gate["Configuration"]["ProjectName"] == {
        "Ref": _project_id(pipeline)
    }
    # Its report folder is the action's output artifact, kept in the artifact bucket.
    assert len(gate["OutputArtifacts"]) == 1
    # A failed action stops the execution in its stage: prod, after dev, deploys only when the gate passes.
    assert list(stages).index("dev") < list(stages).index("prod")
    assert not any(a["Name"].startswith("Gate-") for a in stages["prod"])  # prod declares no gate


def _project_id(pipeline):
    [logical] = [
        k
        for k, p in resources(pipeline, "AWS::CodeBuild::Project").items()
        if p["Properties"].get("Name") == "bedrock-estate-delivery-gate-dev"
    ]
    return logical


def test_the_gate_step_runs_the_gate_through_the_stage_gate_role_and_keeps_its_report(pipeline):
    project = resources(pipeline, "AWS::CodeBuild::Project")[_project_id(pipeline)]
    spec = json.loads(project["Properties"]["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"] == [
        "PYTHONPATH=.:lambdas python3 -m constructs_lib.tools.gate --spec estate.yaml --stage dev "
        "--role-arn arn:aws:iam::111111111111:role/bedrock-estate-dev-gate --out gate-report --no-progress"
    ]
    assert spec["artifacts"] == {"base-directory": "gate-report", "files": "**/*"}
    assert "-c requirements.lock" in spec["phases"]["install"]["commands"][0]


def test_the_gate_runner_is_trusted_by_its_project_only_and_assumes_only_the_gate_role(pipeline):
    roles = resources(pipeline, "AWS::IAM::Role")
    [(logical, role)] = [
        (k, r) for k, r in roles.items() if r["Properties"].get("RoleName") == "bedrock-estate-delivery-gate-dev"
    ]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "333333333333"},
        "ArnEquals": {
            "aws:SourceArn": "arn:aws:codebuild:us-west-2:333333333333:project/bedrock-estate-delivery-gate-dev"
        },
    }
    statements = _role_statements(pipeline, logical)
    assert _assumes(statements) == [GATE_ROLE_ASSUMED]
    # Beyond it, only what CDK Pipelines gives every step: its logs, reports, artifact bucket and key.
    services = {a.split(":")[0] for st in statements for a in _as_list(st["Action"])}
    assert services == {"logs", "codebuild", "s3", "kms", "sts"}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _role_statements(template, logical: str) -> list[dict]:
    """Every statement of the policies attached to the role ``logical``."""
    return [
        st
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": logical} in p["Properties"]["Roles"]
        for st in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _assumes(statements: list[dict]) -> list[dict]:
    return [st for st in statements if "sts:AssumeRole" in _as_list(st["Action"])]


# What the pipeline's gate runner may assume: the dev stage's gate role, nothing else.
GATE_ROLE_ASSUMED = {
    "Action": "sts:AssumeRole",
    "Effect": "Allow",
    "Resource": "arn:aws:iam::111111111111:role/bedrock-estate-dev-gate",
}


def test_the_stage_gate_role_trusts_the_runner_and_streams_only_from_the_gated_models(default_estate):
    serving = default_estate.stack("dev/Serving").template
    [(logical, role)] = [
        (k, r)
        for k, r in resources(serving, "AWS::IAM::Role").items()
        if r["Properties"].get("RoleName") == "bedrock-estate-dev-gate"
    ]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::333333333333:role/bedrock-estate-delivery-gate-dev"}
            },
        }
    ]
    assert role["Properties"]["MaxSessionDuration"] == 3600
    policies = [
        p
        for p in resources(serving, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": logical} in p["Properties"]["Roles"]
    ]
    assert [p["Properties"]["PolicyDocument"]["Statement"] for p in policies] == [
        [
            {
                "Action": "bedrock:InvokeModelWithResponseStream",
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [_served(serving, "summarizer"), "Arn"]},
            },
            {
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Condition": {"StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}},
                "Effect": "Allow",
                "Resource": {"Fn::ImportValue": "bedrock-estate-dev-foundation-custom-model-key-arn"},
            },
            {
                "Action": "cloudformation:DescribeStacks",
                "Effect": "Allow",
                "Resource": "arn:aws:cloudformation:us-east-1:111111111111:stack/bedrock-estate-dev-serving/*",
            },
        ]
    ]
    assert not [
        r
        for r in resources(default_estate.stack("prod/Serving").template, "AWS::IAM::Role").values()
        if "gate" in r["Properties"].get("RoleName", "")
    ]


def _served(template, entry):
    [logical] = [
        k
        for k, r in template["Resources"].items()
        if r["Type"].startswith("Custom::Bedrock")
        and r["Type"] != "Custom::BedrockModelShare"
        and k.startswith(f"Serving{entry}")
    ]
    return logical


def test_each_stage_is_resolved_once_and_the_pipeline_deploys_those_settings(default_spec, monkeypatch):
    """Resolving a stage with its dataset files hashes every file; the pipeline reuses the stages
    build_estate resolved (and the very stages it built), never resolving them again."""
    import aws_cdk as cdk

    from constructs_lib.spec import model
    from stacks.estate import build_estate

    from ..conftest import FIXTURES
    from ..synthesis import cdk_context

    calls: list[tuple[str, bool]] = []
    resolve = model.resolve_stage

    def counted(spec, name, base_dir=None):
        calls.append((name, base_dir is not None))
        return resolve(spec, name, base_dir)

    monkeypatch.setattr(model, "resolve_stage", counted)
    build_estate(cdk.App(context=cdk_context()), default_spec, base_dir=FIXTURES)
    assert sorted(calls) == sorted((name, True) for name in default_spec.stages)


PR_DIFF_SPEC = """\
name: acme-estate
pipeline:
  account: "333333333333"
  region: us-west-2
  connectionArn: arn:aws:codeconnections:us-west-2:333333333333:connection/00000000-0000-0000-0000-000000000000
  repository: acme/estate
  branch: trunk
  pullRequestDiffRole: true
stages:
  dev: {account: "111111111111", region: us-west-2}
  dev-eu: {account: "111111111111", region: eu-west-1}
  prod: {account: "222222222222", region: us-east-1, protected: true}
"""


def test_the_pull_request_diff_role_is_opt_in_and_made_once_per_account():
    from constructs_lib.spec import parse_spec
    from stacks.estate_stage import pull_request_diff

    spec = parse_spec(PR_DIFF_SPEC, source="estate.yaml")
    made = {name: pull_request_diff(spec, spec.stage(name)) for name in spec.stages}
    assert made["dev-eu"] is None  # dev already makes the account's role
    assert made["dev"].lookup_regions == ("us-west-2", "eu-west-1") and made["prod"].lookup_regions == ("us-east-1",)
    assert {(p.role_name, p.repository, p.base_branch) for p in (made["dev"], made["prod"])} == {
        ("acme-estate-pr-diff", "acme/estate", "trunk")
    }
    opted_out = parse_spec(PR_DIFF_SPEC.replace("  pullRequestDiffRole: true\n", ""), source="estate.yaml")
    assert all(pull_request_diff(opted_out, opted_out.stage(name)) is None for name in opted_out.stages)


def test_the_pull_request_diff_role_trusts_one_repository_branch_and_workflow_and_may_only_look_up(tmp_path):
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from constructs_lib import add_nag_packs
    from constructs_lib.foundation.pull_request_diff_role import PullRequestDiffRole, PullRequestDiffRoleProps

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Account", env=cdk.Environment(account="111111111111", region="us-west-2"))
    PullRequestDiffRole(
        stack,
        "Diff",
        PullRequestDiffRoleProps(
            role_name="acme-estate-pr-diff",
            repository="acme/estate",
            base_branch="trunk",
            lookup_regions=("us-west-2", "eu-west-1"),
        ),
    )
    add_nag_packs(app)
    app.synth()  # every pack clean, or synthesis fails
    # The partition as a deployed template resolves it (a plain app writes it as a reference).
    text = json.dumps(Template.from_stack(stack).to_json())
    text = re.sub(r'\{"Fn::Join": \["", \["arn:", \{"Ref": "AWS::Partition"\}, "([^"]*)"\]\]\}', r'"arn:aws\1"', text)
    template = json.loads(text)
    [role] = resources(template, "AWS::IAM::Role").values()
    assert role["Properties"]["RoleName"] == "acme-estate-pr-diff"
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Principal"] == {
        "Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    }
    assert trust["Condition"] == {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {
            "token.actions.githubusercontent.com:sub": "repo:acme/estate:pull_request:base_ref:trunk"
            ":job_workflow_ref:acme/estate/.github/workflows/pull-request.yml@*"
        },
    }
    [policy] = resources(template, "AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Resource": [
                "arn:aws:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-eu-west-1",
                "arn:aws:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-us-west-2",
            ],
        }
    ]


def test_every_service_the_pipeline_trusts_acts_only_for_this_account_and_its_own_resources(pipeline):
    # Lambda execution roles are assumed by Lambda for their function only (docs/security.md).
    expected = {
        "codepipeline.amazonaws.com": (
            "ArnEquals",
            "arn:aws:codepipeline:us-west-2:333333333333:bedrock-estate-delivery",
        ),
        "codebuild.amazonaws.com": ("ArnLike", "arn:aws:codebuild:us-west-2:333333333333:project/*"),
        "events.amazonaws.com": ("ArnLike", "arn:aws:events:us-west-2:333333333333:rule/*"),
    }
    seen = set()
    for role in resources(pipeline, "AWS::IAM::Role").values():
        for trust in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            service = trust["Principal"].get("Service")
            if service not in expected:
                continue
            seen.add(service)
            condition = trust["Condition"]
            assert condition["StringEquals"] == {"aws:SourceAccount": "333333333333"}
            [(operator, value)] = [(k, v["aws:SourceArn"]) for k, v in condition.items() if k != "StringEquals"]
            if trust.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn", "").endswith("-gate-dev"):
                continue  # the gate runner names its own project
            assert (operator, value) == expected[service]
    assert seen == set(expected)


def test_builds_log_to_the_estates_encrypted_group_with_its_retention(pipeline):
    [(logical, group)] = [
        (k, g)
        for k, g in resources(pipeline, "AWS::Logs::LogGroup").items()
        if g["Properties"].get("LogGroupName") == "/bedrock-estate-delivery/codebuild"
    ]
    assert "KmsKeyId" in group["Properties"] and group["Properties"]["RetentionInDays"] > 0
    projects = resources(pipeline, "AWS::CodeBuild::Project").values()
    for project in projects:
        logs = project["Properties"].get("LogsConfig", {}).get("CloudWatchLogs", {})
        assert logs.get("GroupName") == {"Ref": logical}, project["Properties"].get("Description")


def test_drift_before_deploy_is_opt_in_and_runs_before_each_stage_deploys(pipeline, tmp_path):
    import aws_cdk as cdk
    import yaml

    from constructs_lib.spec import parse_spec
    from stacks.pipeline_stack import PipelineStack

    from ..conftest import DEFAULT_FIXTURE, FIXTURES, cdk_context

    assert not any("Drift" in k for k in resources(pipeline, "AWS::CodeBuild::Project"))  # off by default
    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    doc["pipeline"]["driftBeforeDeploy"] = True
    spec = parse_spec(yaml.safe_dump(doc), source="estate.yaml", base_dir=FIXTURES)
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    stack = PipelineStack(
        app, "Delivery", spec=spec, base_dir=FIXTURES, env=cdk.Environment(account="333333333333", region="us-west-2")
    )
    template = cdk.assertions.Template.from_stack(stack).to_json()
    projects = resources(template, "AWS::CodeBuild::Project")
    for stage, account, region in (("dev", "111111111111", "us-east-1"), ("prod", "222222222222", "us-east-1")):
        drift = next(p for k, p in projects.items() if f"Drift{stage}" in k)
        spec_text = drift["Properties"]["Source"]["BuildSpec"]
        assert f"constructs_lib.tools.cli drift --spec estate.yaml --stage {stage}" in spec_text
        assert f"--role-arn arn:aws:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-{region}" in spec_text
        actions = stages_of(template)[stage]
        order = next(a["RunOrder"] for a in actions if a["Name"].startswith(f"Drift-{stage}"))
        assert order < min(a["RunOrder"] for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation")


# -- the current model, recorded before the deployment (baselines.current) ----------------------------
@pytest.fixture(scope="module")
def current_pipeline():
    """The default estate with dev's gate comparing with the current model, and prod (protected)
    gated the same way; synthesized as app.py does, so with the five nag packs (an unacknowledged
    finding on the new steps would fail here), and cfn-lint clean."""
    import yaml

    from constructs_lib.spec import parse_spec

    from ..conftest import DEFAULT_FIXTURE, FIXTURES
    from ..synthesis import lint_estate, synthesize_once

    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    doc["stages"]["dev"]["gate"]["baselines"] = {"current": {"quality": {"maxRegression": 0.05}}}
    doc["stages"]["prod"]["gate"] = dict(doc["stages"]["dev"]["gate"])
    spec = parse_spec(yaml.safe_dump(doc), source="estate.yaml", base_dir=FIXTURES)
    estate = synthesize_once("current-pipeline", spec, base_dir=FIXTURES)
    assert lint_estate([estate.stack("Delivery")]) == {}  # cfn-lint clean too
    return estate.stack("Delivery").template


def _project(template, name):
    [project] = [
        p for p in resources(template, "AWS::CodeBuild::Project").values() if p["Properties"].get("Name") == name
    ]
    return project, json.loads(project["Properties"]["Source"]["BuildSpec"])


def test_no_record_step_without_a_current_baseline(pipeline):
    assert not any(a["Name"].startswith("GateRecord-") for actions in stages_of(pipeline).values() for a in actions)


def test_the_current_models_are_measured_after_every_check_before_the_deployment_and_the_gate_reads_that(
    current_pipeline,
):
    """GateRecord-<stage> runs after drift, the broadening check and the approval, before the first
    stack deploys; its output (the record) is the gate step's second input, after the deployment."""
    for stage, account in (("dev", "111111111111"), ("prod", "222222222222")):
        actions = stages_of(current_pipeline)[stage]
        [record] = [a for a in actions if a["Name"].startswith(f"GateRecord-{stage}")]
        [gate] = [a for a in actions if a["Name"].startswith(f"Gate-{stage}")]
        deploys = [a["RunOrder"] for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation"]
        checks = [a for a in actions if a["Name"].startswith(("CheckBroadening", "Approve-"))]
        assert max(a["RunOrder"] for a in checks) < record["RunOrder"] < min(deploys) < max(deploys) < gate["RunOrder"]
        if stage == "prod":
            assert any(a["Name"] == "Approve-prod" for a in checks)  # protected: measured only once approved
        [recorded] = record["OutputArtifacts"]
        assert recorded in gate["InputArtifacts"] and len(gate["InputArtifacts"]) == 2
        gate_role = f"arn:aws:iam::{account}:role/bedrock-estate-{stage}-gate"
        _, spec = _project(current_pipeline, f"bedrock-estate-delivery-gate-record-{stage}")
        assert spec["phases"]["build"]["commands"] == [
            f"PYTHONPATH=.:lambdas python3 -m constructs_lib.tools.gate --spec estate.yaml --stage {stage} "
            f"--role-arn {gate_role} --record-current --current gate-current/current.json --no-progress"
        ]
        assert spec["artifacts"] == {"base-directory": "gate-current", "files": "**/*"}
        _, spec = _project(current_pipeline, f"bedrock-estate-delivery-gate-{stage}")
        link, _install = spec["phases"]["install"]["commands"]
        assert link.endswith(f'ln -s -- "$CODEBUILD_SRC_DIR_GateRecord_{stage}_Output" "../gate-current"')
        assert spec["phases"]["build"]["commands"] == [
            f"PYTHONPATH=.:lambdas python3 -m constructs_lib.tools.gate --spec estate.yaml --stage {stage} "
            f"--role-arn {gate_role} --out gate-report --no-progress --current ../gate-current/current.json"
        ]


def test_one_runner_per_stage_records_and_gates_trusted_by_those_two_projects_only(current_pipeline):
    roles = resources(current_pipeline, "AWS::IAM::Role")
    [(logical, role)] = [
        (k, r) for k, r in roles.items() if r["Properties"].get("RoleName") == "bedrock-estate-delivery-gate-dev"
    ]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    project = "arn:aws:codebuild:us-west-2:333333333333:project/bedrock-estate-delivery-gate"
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "333333333333"},
        "ArnEquals": {"aws:SourceArn": [f"{project}-dev", f"{project}-record-dev"]},
    }
    for name in ("bedrock-estate-delivery-gate-dev", "bedrock-estate-delivery-gate-record-dev"):
        found, _ = _project(current_pipeline, name)
        assert found["Properties"]["ServiceRole"] == {"Fn::GetAtt": [logical, "Arn"]}
    statements = _role_statements(current_pipeline, logical)
    assert _assumes(statements) == [GATE_ROLE_ASSUMED]
    assert {a.split(":")[0] for st in statements for a in _as_list(st["Action"])} == {
        "logs",
        "codebuild",
        "s3",
        "kms",
        "sts",
    }


def test_the_serving_stack_says_which_custom_model_each_entry_serves(default_estate):
    """A model swaps in place under its entry's ARN: the gate tells the model served before from the
    new one by this output."""
    serving = default_estate.stack("dev/Serving").template
    assert serving["Outputs"]["SummarizerCustomModelArn"]["Value"] == {
        "Fn::GetAtt": [_served(serving, "summarizer"), "ModelArn"]
    }
