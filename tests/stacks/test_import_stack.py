"""Imported models in a synthesized stage (tests/fixtures/imports/estate.yaml): the resources, the
role the import jobs run as, the handler's grants, and a snapshot of the stack a reviewer reads."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import App
from syrupy.extensions.json import JSONSnapshotExtension

from constructs_lib import ImportedModel, ImportedModelProps, ModelImportRole, ProviderLogging
from constructs_lib.spec import load_spec
from estate_runtime.kinds import imported_model
from stacks import customization_stack
from stacks.estate_stage import EstateStage

from ..conftest import IMPORT_DIR
from ..synthesis import cdk_context, lint_estate, normalize, synthesize

KIND = imported_model.KIND.type_name


@pytest.fixture(scope="module")
def template(import_estate):
    return import_estate.stack("dev/Customization").template


def resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def statements(template, logical_id):
    return template["Resources"][logical_id]["Properties"]["PolicyDocument"]["Statement"]


def by_readable(template, name):
    return next(
        r for r in resources(template, KIND).values() if r["Properties"]["NameParts"]["Readable"].endswith(name)
    )


def dashboard_widgets(dashboard: dict) -> list[dict]:
    """A synthesized dashboard's widgets, each attribute it reads spelled ``<LogicalId.Attribute>``."""
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(
        p if isinstance(p, str) else "<{}.{}>".format(*p["Fn::GetAtt"]) if "Fn::GetAtt" in p else f"<{p['Ref']}>"
        for p in parts
    )
    return json.loads(text)["widgets"]


def test_import_stack_snapshot(import_estate, snapshot):
    assert normalize(import_estate.stack("dev/Customization").template) == snapshot.use_extension(JSONSnapshotExtension)


def test_the_import_estate_is_clean_for_cfn_lint(import_estate):
    assert lint_estate(import_estate.stacks) == {}


def test_each_import_carries_the_owner_tag_its_key_and_removal(template):
    default = by_readable(template, "support-llama")["Properties"]
    assert default["NameParts"]["Readable"] == "import-estate-dev-support-llama"
    assert {"key": "bedrock-estate", "value": "import-estate-dev"} in default["Tags"]
    assert default["KmsKeyId"] == {"Fn::ImportValue": "import-estate-dev-foundation-custom-model-key-arn"}
    assert default["Removal"] == "retain" and default["ImportWaitSeconds"] == 3300
    vpc = by_readable(template, "coder-qwen")["Properties"]
    assert vpc["Removal"] == "destroy"
    assert vpc["VpcConfig"] == {"subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"]}


def test_the_import_role_is_trusted_for_this_accounts_import_jobs_only(template):
    [(role_id, role)] = [
        (k, r) for k, r in resources(template, "AWS::IAM::Role").items() if k.startswith("ModelImportRole")
    ]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111111111111"},
        "ArnEquals": {"aws:SourceArn": "arn:aws:bedrock:us-east-1:111111111111:model-import-job/*"},
    }
    for props in (r["Properties"] for r in resources(template, KIND).values()):
        assert props["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_the_import_role_reads_exactly_the_weights_folders(template):
    [policy_id] = [k for k in resources(template, "AWS::IAM::ManagedPolicy") if k.startswith("ModelImportRoleAccess")]
    found = statements(template, policy_id)
    reads = [s for s in found if s["Action"] == "s3:GetObject"]
    assert [sorted(s["Resource"]) for s in reads] == [
        [
            "arn:aws:s3:::acme-model-weights/coder-qwen/2026-11/*",
            "arn:aws:s3:::acme-model-weights/support-llama/v3/*",
        ]
    ]
    prefixes = sorted(
        p for s in found if s["Action"] == "s3:ListBucket" for p in s["Condition"]["StringLike"]["s3:prefix"]
    )
    assert prefixes == ["coder-qwen/2026-11", "coder-qwen/2026-11/*", "support-llama/v3", "support-llama/v3/*"]
    decrypt = [s for s in found if s["Action"] == "kms:Decrypt"]
    assert decrypt[0]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    vpc = json.dumps([s for s in found if "ec2:CreateNetworkInterface" in json.dumps(s["Action"])])
    assert "BedrockModelImportJobArn" in vpc and "BedrockModelCustomizationJobArn" not in vpc


def test_the_handler_creates_only_owned_imports_and_reads_only_the_weights_folders(template):
    """The pre-flight reads config.json and each file's checksum (HeadObject needs s3:GetObject on
    the file), in the folders the spec names and nowhere else."""
    [policy_id] = [k for k in resources(template, "AWS::IAM::ManagedPolicy") if "BedrockImportedModelPolicy" in k]
    found = statements(template, policy_id)
    [create] = [s for s in found if s["Action"] == "bedrock:CreateModelImportJob"]
    assert create["Resource"] == "*"
    assert create["Condition"] == {"StringEquals": {"aws:RequestTag/bedrock-estate": "import-estate-dev"}}
    [delete] = [s for s in found if s["Action"] == "bedrock:DeleteImportedModel"]
    assert delete["Condition"] == {"StringEquals": {"aws:ResourceTag/bedrock-estate": "import-estate-dev"}}
    gets = sorted(
        r
        for s in found
        if s["Action"] == "s3:GetObject"
        for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    )
    assert gets == [
        "arn:aws:s3:::acme-model-weights/coder-qwen/2026-11/*",
        "arn:aws:s3:::acme-model-weights/support-llama/v3/*",
    ]


def test_each_import_waits_for_its_roles_grants(template):
    [policy_id] = [k for k in resources(template, "AWS::IAM::ManagedPolicy") if k.startswith("ModelImportRoleAccess")]
    for resource in resources(template, KIND).values():
        assert policy_id in resource["DependsOn"]


def _library_stack():
    app = cdk.App()
    stack = cdk.Stack(app, "Models", env=cdk.Environment(account="123456789012", region="us-west-2"))
    logging = ProviderLogging(
        log_group_prefix="/models/", log_key=cdk.aws_kms.Key(stack, "LogKey", enable_key_rotation=True)
    )
    return stack, logging, ModelImportRole(stack, "ImportRole")


def test_a_library_user_imports_a_model_without_the_estate():
    stack, logging, role = _library_stack()
    model = ImportedModel(
        stack,
        "Support",
        ImportedModelProps(
            name="support-llama", weights_s3_uri="s3://weights/support/v1/", role=role, owner="models", logging=logging
        ),
    )
    assert cdk.Token.is_unresolved(model.model_arn)
    template = cdk.assertions.Template.from_stack(stack)
    [props] = [r["Properties"] for r in template.find_resources(KIND).values()]
    assert "KmsKeyId" not in props and props["NameParts"]["Readable"] == "support-llama"


@pytest.mark.parametrize(
    ("uri", "said"),
    [
        ("s3://weights/support/v1", "must name a folder: end it with /"),
        ("s3://weights/support v1/", "holds ' ', which CreateModelImportJob refuses"),
        ("https://weights/support/", "is not an s3:// URI"),
    ],
)
def test_a_weights_uri_createmodelimportjob_refuses_fails_synthesis(uri, said):
    from constructs_lib.machinery.validation import EstateConstructError

    stack, logging, role = _library_stack()
    with pytest.raises(EstateConstructError, match=f"Models/Support: weights_s3_uri: .*{re.escape(said)}"):
        ImportedModel(
            stack,
            "Support",
            ImportedModelProps(name="support", weights_s3_uri=uri, role=role, owner="models", logging=logging),
        )


def test_the_plan_shows_each_import_with_its_pricing_basis_and_no_invented_price(import_estate):
    from constructs_lib.tools.plan import read_assembly, render

    plan = render(import_estate.spec, read_assembly(import_estate.directory))
    assert (
        "| support-llama | `s3://acme-model-weights/support-llama/v3/` (only the files of `sha256:6f1c9e0d2b7a…`) "
        "| the stage's custom-model key |"
    ) in plan
    assert (
        "`s3://acme-prod-model-weights/support-llama/v3/` (only the files of `sha256:6f1c9e0d2b7a…`, promoted from dev)"
        in plan
    )
    assert "`import-estate-dev-coder-qwen-<digest of the content>` | model deleted |" in plan
    assert "custom model units (CMUs) per model copy, billed per CMU per minute over 5-minute windows" in plan
    assert "import-model-calculate-cost.html" in plan
    assert "$" not in plan.split("### dev", 1)[1]  # no price for an imported model: the pricing page has it


def _import_stage(app: App) -> EstateStage:
    spec = load_spec(IMPORT_DIR / "estate.yaml")
    return EstateStage(app, spec.stage("dev", IMPORT_DIR), spec, IMPORT_DIR)


def test_a_stage_that_only_imports_gets_the_customization_stack_described_by_its_imports():
    stage = _import_stage(App(context=cdk_context()))
    assert stage.customization is not None
    assert stage.customization.template_options.description == "bedrock-estate import-estate-dev: imported models"
    assert set(stage.customization.sections["imports"]) == {"support-llama", "coder-qwen"}


def test_imports_without_their_builder_are_refused_not_dropped(monkeypatch):
    monkeypatch.setattr(customization_stack, "SECTION_BUILDERS", {})
    with pytest.raises(ValueError, match="no builder for the stage section 'imports'"):
        _import_stage(App(context=cdk_context()))


def test_prod_re_imports_the_files_dev_pinned_from_its_own_folder(import_estate):
    """An import promoted from an earlier stage: its own weights folder, the earlier stage's pinned
    digest as the content its pre-flight requires, and its handler reads only its own folder."""
    pinned = "sha256:6f1c9e0d2b7a4c3e8f5a1d9b0c7e2f4a6b8d0e1f3a5c7e9b1d3f5a7c9e0b2d4f"
    dev = import_estate.stack("dev/Customization").template
    prod = import_estate.stack("prod/Customization").template
    assert by_readable(dev, "import-estate-dev-support-llama")["Properties"]["ExpectedWeightsDigest"] == pinned
    promoted = by_readable(prod, "import-estate-prod-support-llama")["Properties"]
    assert promoted["ExpectedWeightsDigest"] == pinned
    assert promoted["WeightsS3Uri"] == "s3://acme-prod-model-weights/support-llama/v3/"
    assert "ExpectedWeightsDigest" not in by_readable(dev, "import-estate-dev-coder-qwen")["Properties"]
    [policy_id] = [k for k in resources(prod, "AWS::IAM::ManagedPolicy") if "BedrockImportedModelPolicy" in k]
    reads = [s["Resource"] for s in statements(prod, policy_id) if s["Action"] == "s3:GetObject"]
    assert reads == ["arn:aws:s3:::acme-prod-model-weights/support-llama/v3/*"]


def test_a_weights_digest_that_is_not_one_fails_synthesis_naming_the_command():
    from constructs_lib.machinery.validation import EstateConstructError

    stack, logging, role = _library_stack()
    with pytest.raises(EstateConstructError, match="Models/Support: weights_digest: 'md5:abc' is not sha256:"):
        ImportedModel(
            stack,
            "Support",
            ImportedModelProps(
                name="support",
                weights_s3_uri="s3://weights/support/v1/",
                role=role,
                owner="models",
                logging=logging,
                weights_digest="md5:abc",
            ),
        )


def test_a_gate_on_imports_without_a_pipeline_adds_no_empty_serving_stack(tmp_path):
    """The serving stack holds a gate on imports only for its role, which the pipeline assumes: run
    by hand (no pipeline), the gate uses your credentials, and a serving stack would deploy an empty
    dashboard and nothing else."""
    import yaml

    from constructs_lib.spec import parse_spec

    doc = yaml.safe_load((IMPORT_DIR / "estate.yaml").read_text())
    doc["stages"]["dev"]["gate"] = {"imports": ["coder-qwen"], "latency": {"endToEnd": {"p90": 20}}}
    spec = parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=IMPORT_DIR)
    stage = EstateStage(App(context=cdk_context()), spec.stage("dev", IMPORT_DIR), spec, IMPORT_DIR)
    assert stage.serving is None


# -- the imports' dashboard and alarms ----------------------------------------------------------------------
def test_each_import_is_graphed_and_alarmed_by_its_arn_beside_it_and_says_the_dimension_is_inferred(template):
    """The imports' dashboard and alarms live in the customization stack, keyed by each model's ARN
    (an attribute of the import here: no export, so new weights can replace the model). Which value
    ModelId carries for an imported model is not documented: the dashboard and every alarm say it is
    inferred, with the command that checks it."""
    imports = {
        r["Properties"]["NameParts"]["Readable"].removeprefix("import-estate-dev-"): k
        for k, r in resources(template, KIND).items()
    }
    [dashboard] = resources(template, "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "import-estate-dev-imports"
    widgets = dashboard_widgets(dashboard)
    [note] = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert (
        "The ModelId value of an imported model's AWS/Bedrock metrics is inferred, not documented: the imported "
        "model's ARN" in note
    )
    assert "aws cloudwatch list-metrics --namespace AWS/Bedrock --metric-name Invocations" in note
    graphed = {
        (series[1], series[3])
        for w in widgets
        if w["type"] == "metric"
        for series in w["properties"]["metrics"]
        if series[:3:2] == ["AWS/Bedrock", "ModelId"]
    }
    for name, logical_id in imports.items():
        arn = f"<{logical_id}.ModelArn>"
        for metric in ("Invocations", "InvocationLatency", "InvocationThrottles", "OutputTokenCount", "ModelCopy"):
            assert (metric, arn) in graphed, (name, metric)
        # Its pricing basis beside the copies it bills by.
        assert f"`{name}`: <{logical_id}.CustomModelUnitsPerModelCopy> custom model units per running copy" in note
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert sorted(a["Properties"]["AlarmName"] for a in alarms.values()) == sorted(
        f"import-estate-dev-import.{name}-{what}"
        for name in imports
        for what in ("throttles", "server-errors", "client-errors")
    )
    for alarm in alarms.values():
        props = alarm["Properties"]
        name = next(n for n in imports if props["AlarmName"].startswith(f"import-estate-dev-import.{n}-"))
        assert props["Dimensions"] == [{"Name": "ModelId", "Value": {"Fn::GetAtt": [imports[name], "ModelArn"]}}]
        assert props["Namespace"] == "AWS/Bedrock"
        assert (
            props["AlarmActions"]
            == props["OKActions"]
            == ["arn:aws:sns:us-east-1:111111111111:import-estate-dev-notifications"]
        )
        assert "is inferred, not documented" in props["AlarmDescription"]
        assert "the served capacity is too small" not in props["AlarmDescription"]  # an import has none of its own
        assert len(props["AlarmDescription"]) <= 1024  # CloudWatch's limit
    assert not [o for o in template.get("Outputs", {}).values() if "Export" in o]


def test_the_dimension_the_imports_are_watched_by_is_recorded_as_inferred_with_its_sources():
    """What the dashboard and alarms say comes from one dated record; it reads 'inferred' until a page
    says which value ModelId carries for an imported model, and names how to check it."""
    from estate_runtime.catalog import load_model_import

    facts = load_model_import().monitoring
    assert (facts.namespace, facts.dimension, facts.status, facts.reviewed) == (
        "AWS/Bedrock",
        "ModelId",
        "inferred",
        "2026-12-07",
    )
    assert "monitoring-runtime-metrics.html" in " ".join(facts.sources)
    assert "list-metrics" in facts.verify and "ModelCopy" in facts.model_copy


def test_alarm_names_of_imports_and_serving_entries_cannot_meet(tmp_path):
    """A serving entry and an import of the same name: their alarms are named apart (an import's
    carry a dot, which no entry name can), and all start with the prefix the estate's topic trusts."""
    import yaml

    from constructs_lib.spec import parse_spec

    doc = yaml.safe_load((IMPORT_DIR / "estate.yaml").read_text())
    doc["stages"]["dev"]["sagemakerNova"] = {
        "support-llama": {
            "baseModel": "amazon.nova-lite-v1:0:300k",
            "source": {"modelPackageArn": "arn:aws:sagemaker:us-east-1:111111111111:model-package/support/1"},
        }
    }
    doc["stages"]["dev"]["serving"] = {
        "support-llama": {"model": {"sagemakerNova": "support-llama"}, "onDemand": {}},
    }
    spec = parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=IMPORT_DIR)
    estate = synthesize(spec, tmp_path / "out", base_dir=IMPORT_DIR)
    names = [
        alarm["Properties"]["AlarmName"]
        for stack in ("dev/Customization", "dev/Serving")
        for alarm in resources(estate.stack(stack).template, "AWS::CloudWatch::Alarm").values()
    ]
    assert "import-estate-dev-support-llama-throttles" in names  # the serving entry's
    assert "import-estate-dev-import.support-llama-throttles" in names  # the import's
    assert len(names) == len(set(names)) and all(n.startswith("import-estate-dev-") for n in names)
