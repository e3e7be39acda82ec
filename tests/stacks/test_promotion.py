"""Model promotion (the promotion estate in tests/conftest.py, the default estate retrains instead): dev shares its summarizer with prod, prod copies it and
serves the copy. The cross-account grants are the only references between the stages."""

from __future__ import annotations

import json
import re
from pathlib import Path

DEV, PROD = "111111111111", "222222222222"
ROOT = Path(__file__).resolve().parents[2]


def resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def key_statements(template, alias_suffix):
    aliases = resources(template, "AWS::KMS::Alias").values()
    [key_id] = [
        a["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
        for a in aliases
        if a["Properties"]["AliasName"].endswith(alias_suffix)
    ]
    return template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]


def handler_statements(template, resource_type):
    [policy] = [
        p
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"].get("Description", "").endswith(f"{resource_type} custom-resource handler")
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_owner_key_lets_the_receiving_account_decrypt_through_bedrock_only(promotion_estate):
    dev = promotion_estate.stack("dev/Foundation").template
    [grant] = [s for s in key_statements(dev, "/custom-models") if s.get("Sid") == "PromotionCopiesViaBedrock"]
    assert grant["Principal"] == {"AWS": f"arn:aws:iam::{PROD}:root"}
    # The guide's key policy for the key of a model to be copied: decrypt only, through Bedrock in
    # the owner's region or the receiving stage's.
    assert grant["Action"] == "kms:Decrypt"
    assert grant["Condition"] == {
        "StringEquals": {"kms:ViaService": ["bedrock.us-east-1.amazonaws.com", "bedrock.us-west-2.amazonaws.com"]}
    }
    assert PROD not in json.dumps(key_statements(dev, "/data"))  # training data stays in dev
    assert "PromotionCopiesViaBedrock" not in json.dumps(
        promotion_estate.stack("prod/Foundation").template
    )  # prod shares nothing


def _paragraphs_naming(text: str, name: str) -> list[str]:
    """The paragraphs (or list items) of a Markdown page that mention ``name``."""
    items = re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.) )", text)
    return [item for item in items if name in item]


def test_the_docs_name_exactly_the_actions_the_cross_account_key_grant_gives(promotion_estate):
    """Where the docs describe the owner key's statement for the receiving accounts, every KMS action
    they name as allowed (`kms:<Action>`) is the template's, and the template grants no other."""
    from tests.gates.authorization import AuthorizationReference

    reference = AuthorizationReference()
    [grant] = [
        s
        for s in key_statements(promotion_estate.stack("dev/Foundation").template, "/custom-models")
        if s.get("Sid") == "PromotionCopiesViaBedrock"
    ]
    granted = {grant["Action"]} if isinstance(grant["Action"], str) else set(grant["Action"])
    pages = [ROOT / "docs" / "promotion.md", ROOT / "docs" / "security.md"]
    described = [
        (page.name, item)
        for page in pages
        for item in _paragraphs_naming(page.read_text(), "PromotionCopiesViaBedrock")
    ]
    assert described, "the docs no longer describe the cross-account key grant"
    for page, item in described:
        named = {f"kms:{a}" for a in re.findall(r"`kms:(\w+)`", item) if reference.action(f"kms:{a}")}
        assert named == granted, (
            f"{page} names {sorted(named)} for PromotionCopiesViaBedrock; it grants {sorted(granted)}"
        )


def test_dev_shares_exactly_its_trained_model_with_prod_inside_the_organization(promotion_estate):
    serving = promotion_estate.stack("dev/Serving").template
    [share] = resources(serving, "Custom::BedrockModelShare").values()
    [job] = resources(promotion_estate.stack("dev/Customization").template, "Custom::BedrockCustomizationJob").values()
    props = share["Properties"]
    assert props["Principals"] == [PROD]
    assert props["Model"] == {"JobNameParts": job["Properties"]["NameParts"]}
    assert props["Name"] == "bedrock-estate-dev-summarizer-promotion"
    assert {"key": "bedrock-estate", "value": "bedrock-estate-dev"} in props["Tags"]
    statements = handler_statements(serving, "Custom::BedrockModelShare")
    creates = [s["Condition"] for s in statements if "ram:CreateResourceShare" in s["Action"]]
    # RAM authorizes resources and principals separately: only this account's Bedrock custom
    # models, only prod's account, never outside the organization, and no owner tag but the
    # stage's. The RAM guide does not say a share's tags are in each of those contexts, so the
    # create does not require them there (IfExists); the tags are authorized as ram:TagResource.
    internal = {"ram:RequestedAllowsExternalPrincipals": "false"}
    tag = {"aws:RequestTag/bedrock-estate": "bedrock-estate-dev"}
    assert {
        "StringEquals": {"ram:RequestedResourceType": "bedrock:CustomModel"},
        "StringEqualsIfExists": tag,
        "StringLike": {"ram:ResourceArn": f"arn:aws:bedrock:us-west-2:{DEV}:custom-model/*"},
        "Bool": internal,
    } in creates
    assert {"StringEquals": {"ram:Principal": [PROD]}, "StringEqualsIfExists": tag, "Bool": internal} in creates
    [tag_on_create] = [
        s for s in statements if s["Action"] == "ram:TagResource" and "aws:RequestTag/bedrock-estate" in str(s)
    ]
    # ...and only on a share no owner has tagged yet: tag-on-create is authorized like a direct TagResource.
    assert tag_on_create["Condition"] == {"StringEquals": tag, "Null": {"aws:ResourceTag/bedrock-estate": "true"}}
    assert len(creates) == 2
    others = [
        s
        for s in statements
        if str(s["Action"]).count("ram:")
        and "ram:Get" not in str(s["Action"])
        and "ram:CreateResourceShare" not in s["Action"]
    ]
    own_shares = {"ram:ResourceShareName": "bedrock-estate-dev-*"}
    assert others and all(
        s["Condition"].get("StringLike") == own_shares or "aws:RequestTag/bedrock-estate" in str(s["Condition"])
        for s in others
    )
    assert not any(str(s["Action"]).startswith("ram:*") or s["Action"] == "*" for s in statements)


def test_only_the_stages_own_shares_are_extended_lose_accounts_or_are_deleted(promotion_estate):
    """Associating, disassociating or deleting changes a promotion: each needs the share's name
    prefix and the stage's owner tag (every share gets it on create), not the name alone."""
    statements = handler_statements(promotion_estate.stack("dev/Serving").template, "Custom::BedrockModelShare")
    for action in ("ram:AssociateResourceShare", "ram:DisassociateResourceShare", "ram:DeleteResourceShare"):
        granting = [
            s for s in statements if action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        ]
        assert granting, action
        for statement in granting:
            assert statement["Condition"]["StringLike"] == {"ram:ResourceShareName": "bedrock-estate-dev-*"}, action
            assert statement["Condition"]["StringEquals"]["aws:ResourceTag/bedrock-estate"] == "bedrock-estate-dev"


def test_prod_copies_the_shared_model_under_its_own_key_and_serves_the_copy(promotion_estate):
    serving = promotion_estate.stack("prod/Serving").template
    [(copy_id, copy)] = resources(serving, "Custom::BedrockModelCopy").items()
    [job] = resources(promotion_estate.stack("dev/Customization").template, "Custom::BedrockCustomizationJob").values()
    props = copy["Properties"]
    assert props["Source"] == {
        "Stage": "dev",
        "Account": DEV,
        "Region": "us-west-2",
        "JobNameParts": job["Properties"]["NameParts"],
    }
    assert props["Name"].startswith("bedrock-estate-prod-summarizer-") and props["Removal"] == "retain"
    # The key is the foundation's export, which CloudFormation resolves (no parameter to redirect).
    assert props["KmsKeyId"] == {"Fn::ImportValue": "bedrock-estate-prod-foundation-custom-model-key-arn"}
    assert {"key": "bedrock-estate", "value": "bedrock-estate-prod"} in props["Tags"]
    [throughput] = resources(serving, "Custom::BedrockProvisionedThroughput").values()
    assert throughput["Properties"]["Model"] == {"ModelArn": {"Fn::GetAtt": [copy_id, "ModelArn"]}}


def test_the_copy_handler_reads_only_the_owner_stages_models_and_keys_through_bedrock(promotion_estate):
    statements = handler_statements(promotion_estate.stack("prod/Serving").template, "Custom::BedrockModelCopy")
    [create] = [s for s in statements if s["Action"] == "bedrock:CreateModelCopyJob"]
    assert sorted(create["Resource"]) == [
        f"arn:aws:bedrock:us-east-1:{PROD}:custom-model/*",
        f"arn:aws:bedrock:us-west-2:{DEV}:custom-model/*",
    ]
    [owner_keys] = [s for s in statements if s["Resource"] == f"arn:aws:kms:us-west-2:{DEV}:key/*"]
    assert owner_keys["Action"] == "kms:Decrypt"
    # Only the key carrying dev's custom-model alias, not every key of dev's account in its region.
    assert owner_keys["Condition"] == {
        "StringEquals": {"kms:ViaService": ["bedrock.us-east-1.amazonaws.com", "bedrock.us-west-2.amazonaws.com"]},
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/bedrock-estate-dev/custom-models"},
    }
    dev_aliases = resources(promotion_estate.stack("dev/Foundation").template, "AWS::KMS::Alias").values()
    assert "alias/bedrock-estate-dev/custom-models" in [a["Properties"]["AliasName"] for a in dev_aliases]
    [own_key] = [s for s in statements if "kms:GenerateDataKey" in s["Action"]]
    assert own_key["Condition"] == {"StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}}
    # The base model's live lifecycle is read in the receiving region, for the source job's base model only.
    [lifecycle] = [s for s in statements if s["Action"] == "bedrock:GetFoundationModel"]
    assert lifecycle["Resource"] == "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-image-v1:0"


def test_promotion_constructs_stand_alone_in_a_plain_app_under_every_pack(tmp_path):
    import aws_cdk as cdk

    from constructs_lib import EstateKey, EstateKeyProps, add_nag_packs
    from constructs_lib.machinery.resource_provider import ProviderLogging
    from constructs_lib.promotion.model_copy import ModelCopy, ModelCopyProps
    from constructs_lib.promotion.model_share import ModelShare, ModelShareProps
    from estate_runtime.naming import JobNames

    app = cdk.App(outdir=str(tmp_path))  # no cdk.json feature flags
    names = JobNames("team-dev-summarizer", "b" * 64)
    owner = cdk.Stack(app, "Owner", env=cdk.Environment(account=DEV, region="us-west-2"))
    owner_key = EstateKey(owner, "Key", EstateKeyProps(alias="team/models", description="models"))
    owner_key.grant_cloudwatch_logs("/team/")
    owner_key.grant_accounts_via_service(
        "Copies", [PROD], ["kms:Decrypt"], "bedrock", regions=["us-west-2", "us-east-1"]
    )
    ModelShare(
        owner,
        "Share",
        ModelShareProps(
            name="team-dev-summarizer-promotion",
            job=names,
            accounts=[PROD],
            owner="team-dev",
            share_name_prefix="team-dev-",
            logging=ProviderLogging(log_group_prefix="/team/", log_key=owner_key),
        ),
    )
    receiver = cdk.Stack(app, "Receiver", env=cdk.Environment(account=PROD, region="us-east-1"))
    key = EstateKey(receiver, "Key", EstateKeyProps(alias="team/models", description="models"))
    key.grant_cloudwatch_logs("/team/")
    copy = ModelCopy(
        receiver,
        "Copy",
        ModelCopyProps(
            name="team-prod-summarizer-bbbbbbbbbb",
            source_stage="dev",
            source_account=DEV,
            source_region="us-west-2",
            source_key_alias="team/models",
            job=names,
            key=key,
            owner="team-prod",
            logging=ProviderLogging(log_group_prefix="/team/", log_key=key),
        ),
    )
    add_nag_packs(app)
    app.synth()  # raises on any unacknowledged finding
    assert cdk.Token.is_unresolved(copy.model_arn)


# -- examples/adopted-promotion.yaml: dev adopts a model made in its console, prod promotes it --------
ADOPTED = f"arn:aws:bedrock:us-west-2:{DEV}:custom-model/amazon.titan-embed-image-v1:0/0a1b2c3d4e5f"


def test_dev_shares_exactly_the_adopted_arn_and_its_key_admits_no_one(adopted_promotion_estate):
    serving = adopted_promotion_estate.stack("dev/Serving").template
    [share] = resources(serving, "Custom::BedrockModelShare").values()
    assert share["Properties"]["Model"] == {"Adopted": {"Arn": ADOPTED, "SpecPath": "stages.dev.jobs.embedder"}}
    statements = handler_statements(serving, "Custom::BedrockModelShare")
    tag = {"aws:RequestTag/bedrock-estate": "promote-adopted-dev"}
    creates = [s["Condition"] for s in statements if "ram:CreateResourceShare" in s["Action"]]
    # RAM may put exactly that model in a share, and only it (not any model of the account).
    assert {
        "StringEquals": {"ram:RequestedResourceType": "bedrock:CustomModel", "ram:ResourceArn": ADOPTED},
        "StringEqualsIfExists": tag,
        "Bool": {"ram:RequestedAllowsExternalPrincipals": "false"},
    } in creates
    [extend] = [s for s in statements if s["Action"] == "ram:AssociateResourceShare" and "ram:Principal" not in str(s)]
    assert extend["Condition"]["StringEquals"]["ram:ResourceArn"] == ADOPTED
    # The handler reads exactly it; no job is read (Bedrock named the model, the estate trained none).
    [read] = [s for s in statements if s["Action"] == "bedrock:GetCustomModel"]
    assert read["Resource"] == ADOPTED
    assert not [s for s in statements if "bedrock:GetModelCustomizationJob" in str(s["Action"])]
    # RAM's resource-policy actions also revoke a model the entry adopted before: the entry's models only.
    [policies] = [s for s in statements if "bedrock:PutResourcePolicy" in s["Action"]]
    assert sorted(policies["Action"]) == [
        "bedrock:DeleteResourcePolicy",
        "bedrock:GetResourcePolicy",
        "bedrock:PutResourcePolicy",
    ]
    assert policies["Resource"] == f"arn:aws:bedrock:us-west-2:{DEV}:custom-model/*"
    assert policies["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/bedrock-estate": "promote-adopted-dev",
            "aws:ResourceTag/estate-job": "embedder",
        }
    }
    # An adopted model is on Bedrock's own key (the share refuses another): dev's key admits no one.
    dev = adopted_promotion_estate.stack("dev/Foundation").template
    assert "PromotionCopiesViaBedrock" not in json.dumps(dev) and PROD not in json.dumps(dev)


def test_prod_copies_exactly_the_adopted_arn_and_uses_no_key_of_devs(adopted_promotion_estate):
    serving = adopted_promotion_estate.stack("prod/Serving").template
    [copy] = resources(serving, "Custom::BedrockModelCopy").values()
    assert copy["Properties"]["Source"] == {
        "Stage": "dev",
        "Account": DEV,
        "Region": "us-west-2",
        "Adopted": {"Arn": ADOPTED, "SpecPath": "stages.dev.jobs.embedder"},
    }
    statements = handler_statements(serving, "Custom::BedrockModelCopy")
    [create] = [s for s in statements if s["Action"] == "bedrock:CreateModelCopyJob"]
    assert sorted(create["Resource"]) == [f"arn:aws:bedrock:us-east-1:{PROD}:custom-model/*", ADOPTED]
    assert not [s for s in statements if f":kms:us-west-2:{DEV}:" in json.dumps(s)]
