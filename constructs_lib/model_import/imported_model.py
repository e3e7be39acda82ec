"""ImportedModel: a model customized elsewhere (SageMaker, a GPU cluster, a Hugging Face
checkpoint), imported into Bedrock from Hugging Face-format weights in S3; and ModelImportRole,
the service role Bedrock runs the import jobs as.

The user guide says Custom Model Import cannot be used with CloudFormation: this is its custom
resource (``estate_runtime.kinds.imported_model``). The handler checks the weights folder before
anything is imported, imports under names derived from the content, waits for the model (an
import takes minutes), and answers its ARN. ``model_arn`` is what to invoke on demand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from estate_runtime.kinds import JobNameParts
from estate_runtime.kinds.imported_model import (
    KIND,
    WEIGHTS_DIGEST,
    ImportedModelAttributes,
    ImportedModelProperties,
    weights_uri_problem,
)
from estate_runtime.naming import OWNER_TAG, JobNames, content_hash, readable_name
from estate_runtime.permissions import key_actions
from estate_runtime.s3_uri import split_s3_uri

from ..compliance.nag import acknowledge_each, nag_spelling
from ..foundation.customization_role import vpc_access_statements
from ..machinery.references import environment_of, key_arn, role_arn
from ..machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging
from ..machinery.validation import check_prop_types, refuse
from ..spec.model_import import IMPORTS, region_problem
from ..spec.stages import StageSettings
from ..spec.types import key_region_problem, kms_key_arn_problem, owner_problem, tag_problem, vpc_config_problem

if TYPE_CHECKING:
    from ..customization.estate_dataset import StageDatasets


@dataclass(frozen=True, kw_only=True)
class ModelImportRoleProps:
    description: str | None = None
    """The role's description. Default: what it is for."""


class ModelImportRole(Construct):
    """The service role a stage's import jobs run as: Bedrock may assume it for this account's
    import jobs only (user guide, "Create a service role for importing pre-trained models", read
    2026-12-07: ``aws:SourceAccount`` and ``aws:SourceArn`` ``...:model-import-job/*``). It reads
    exactly the weights folders it is given and uses the keys it is given, through one managed policy."""

    def __init__(self, scope: Construct, id: str, props: ModelImportRoleProps | None = None):
        super().__init__(scope, id)
        description = (props or ModelImportRoleProps()).description
        env = environment_of(Stack.of(self))
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": env.account},
                    "ArnEquals": {
                        "aws:SourceArn": f"arn:{env.partition}:bedrock:{env.region}:{env.account}:model-import-job/*"
                    },
                },
            ),
            description=description or "Bedrock runs this account's model import jobs as this role",
        )
        self.policy = iam.ManagedPolicy(
            self, "Access", roles=[self.role], description="What the model import jobs read"
        )
        self._granted: set[str] = set()
        self._acknowledged: set[tuple[str, str]] = set()

    @cached_property
    def role_arn(self) -> str:
        return role_arn(self.role)

    def _add(self, findings: list[tuple[str, str]], *statements: iam.PolicyStatement) -> None:
        for statement in statements:
            key = json.dumps(Stack.of(self).resolve(statement.to_statement_json()), sort_keys=True)
            if key not in self._granted:
                self._granted.add(key)
                self.policy.add_statements(statement)
        new = [finding for finding in findings if finding not in self._acknowledged]
        self._acknowledged.update(new)
        acknowledge_each(self.policy.node.default_child, new)

    def grant_weights(self, weights_s3_uri: str, kms_key_arn: str | None = None) -> None:
        """List and read one weights folder (the guide: s3:GetObject and s3:ListBucket, narrowed
        to the folder with s3:prefix); decrypt it through S3 when its objects are SSE-KMS."""
        env = environment_of(Stack.of(self))
        bucket, folder = split_s3_uri(weights_s3_uri)
        objects = f"arn:{env.partition}:s3:::{bucket}/{folder}*"
        statements = [
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[f"arn:{env.partition}:s3:::{bucket}"],
                conditions={"StringLike": {"s3:prefix": [folder.rstrip("/"), f"{folder}*"]}},
            ),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]),
        ]
        if kms_key_arn:
            statements.append(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[kms_key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{env.region}.amazonaws.com"}},
                )
            )
        finding = (
            f"AwsSolutions-IAM5[Resource::{nag_spelling(self, objects)}]",
            "The files of the model's weights folder, whose names the model's author chose; only that folder of that bucket.",
        )
        self._add([finding], *statements)

    def grant_key(self, key: kms.IKey) -> None:
        """Use the key the imported models are encrypted with, through Bedrock only (user guide,
        "Using customer managed key (CMK)" for imported models: the roles that create imported
        models may create the key's grant and use it)."""
        env = environment_of(Stack.of(self))
        self._add(
            [],
            iam.PolicyStatement(
                actions=list(key_actions("bedrock:CreateModelImportJob", "custom-model")),
                resources=[key_arn(key)],
                conditions={"StringEquals": {"kms:ViaService": f"bedrock.{env.region}.amazonaws.com"}},
            ),
        )

    def grant_vpc(self, subnet_ids: list[str], security_group_ids: list[str]) -> None:
        """Run an import job in these subnets and security groups (user guide, "(Optional) Protect
        custom model import jobs using a VPC")."""
        statements = vpc_access_statements(
            self, subnet_ids, security_group_ids, job_resource="model-import-job", job_tag="BedrockModelImportJobArn"
        )
        interfaces = Stack.of(self).format_arn(service="ec2", resource="network-interface", resource_name="*")
        findings = [
            (
                "AwsSolutions-IAM5[Resource::*]",
                "EC2 Describe* actions support no resource-level permissions; Bedrock reads the VPC's network settings "
                "with them. Interface permissions and deletion are limited by conditions to Bedrock-managed interfaces "
                "of this account's import jobs in the given subnets.",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(self, interfaces)}]",
                "Network interface ids are assigned when Bedrock creates them; the conditions limit the role to "
                "interfaces tagged BedrockManaged for this account's import jobs.",
            ),
        ]
        self._add(findings, *statements)


@dataclass(frozen=True, kw_only=True)
class ImportedModelProps:
    name: str
    """Readable part of the import job's and the model's names, e.g. ``bedrock-estate-dev-support-llama``."""

    weights_s3_uri: str
    """``s3://bucket/folder/`` holding the model's Hugging Face files: config.json,
    tokenizer_config.json, tokenizer.json or tokenizer.model, and the .safetensors weights."""

    role: ModelImportRole
    """The service role the import job runs as; this construct grants it the folder and the key."""

    owner: str
    """Value of the ``bedrock-estate`` tag the job and the model carry; the handler deletes only models carrying it."""

    logging: ProviderLogging

    key: kms.IKey | None = None
    """Encrypts the imported model. Default: none given, so Bedrock's own (an AWS owned key)."""

    weights_kms_key_arn: str | None = None
    """The key of an SSE-KMS weights bucket, so the role (and the pre-flight) can read the files."""

    vpc_config: dict[str, list[str]] | None = None
    """``{"subnetIds": [...], "securityGroupIds": [...]}`` to run the import job in a VPC."""

    removal: Literal["retain", "destroy"] = "retain"
    """Deleting the resource keeps the imported model (default) or deletes it."""

    weights_digest: str | None = None
    """``sha256:...``: import only a folder holding exactly these files (``bedrock-estate
    weights-digest <s3 uri>`` prints a folder's); any other content fails the deployment before
    anything is imported. Default: whatever the folder holds. Adding or changing it imports
    nothing anew when the files match."""

    tags: dict[str, str] = field(default_factory=dict)


class ImportedModel(Construct):
    """``Custom::BedrockImportedModel``."""

    def __init__(self, scope: Construct, id: str, props: ImportedModelProps):
        super().__init__(scope, id)
        check_prop_types(self, props)
        readable = readable_name(props.name)
        problems = []
        if uri_problem := weights_uri_problem(props.weights_s3_uri):
            problems.append(("weights_s3_uri", uri_problem))
        if not readable:
            problems.append(("name", f"{props.name!r} needs at least one letter or digit"))
        if props.weights_digest is not None and not WEIGHTS_DIGEST.match(props.weights_digest):
            problems.append(
                (
                    "weights_digest",
                    f"{props.weights_digest!r} is not sha256: and 64 lowercase hex digits, as `bedrock-estate "
                    "weights-digest <s3 uri>` prints a folder's digest",
                )
            )
        problems += [("tags", p) for key, value in props.tags.items() if (p := tag_problem(key, value)) is not None]
        problems += _deploy_problems(environment_of(Stack.of(self)).known_region, props)
        refuse(self, problems)
        stack = Stack.of(self)
        identity = {
            "weights": props.weights_s3_uri,
            "key": key_arn(props.key) if props.key else None,
            "vpc": props.vpc_config,
        }
        self.names = JobNames(readable=readable, digest=content_hash(stack.resolve(identity)))
        """The readable part and the spec's digest; the handler adds the weights' ETags to the names."""

        props.role.grant_weights(props.weights_s3_uri, props.weights_kms_key_arn)
        if props.key is not None:
            props.role.grant_key(props.key)
        if props.vpc_config:
            props.role.grant_vpc(props.vpc_config["subnetIds"], props.vpc_config["securityGroupIds"])

        grants = EstateProvider.of(self, props.logging, stack=stack).serve(KIND)
        _grant_handler(grants, stack, props)
        self.resource = grants.resource(
            self,
            "Resource",
            ImportedModelProperties(
                name_parts=JobNameParts(readable=self.names.readable, digest=self.names.digest),
                weights_s3_uri=props.weights_s3_uri,
                role_arn=props.role.role_arn,
                tags=[{"key": k, "value": v} for k, v in sorted({**props.tags, OWNER_TAG: props.owner}.items())],
                removal=props.removal,
                kms_key_id=key_arn(props.key) if props.key else None,
                vpc_config=dict(props.vpc_config) if props.vpc_config else None,
                expected_weights_digest=props.weights_digest,
            ),
        )
        # Bedrock reads the folder as the role the moment the job starts: the grants exist first.
        self.resource.node.add_dependency(props.role)
        self._key = props.key

    def _attribute(self, name: str) -> str:
        return self.resource.get_att_string(ImportedModelAttributes.key(name))

    @cached_property
    def model_arn(self) -> str:
        """The imported model's ARN: the model id to invoke on demand."""
        return self._attribute("model_arn")

    @cached_property
    def model_name(self) -> str:
        return self._attribute("model_name")

    @cached_property
    def instruct_supported(self) -> str:
        """``true`` when Bedrock serves the model through Converse, ``false`` otherwise."""
        return self._attribute("instruct_supported")

    @cached_property
    def weights_digest(self) -> str:
        """The digest of the files the model was imported from: what a later stage pins to promote it."""
        return self._attribute("weights_digest")

    @cached_property
    def architecture_class(self) -> str:
        """The config.json class the pre-flight found the catalog row by: bench and gate choose
        ConverseStream or InvokeModelWithResponseStream (and the request format) by that row."""
        return self._attribute("architecture_class")

    @cached_property
    def kms_key(self) -> kms.IKey | None:
        """The key the imported model is encrypted with, if any."""
        return self._key

    @cached_property
    def custom_model_units_per_model_copy(self) -> str:
        """Custom model units one copy takes: the pricing basis (user guide, "Calculate the cost of running a custom model")."""
        return self._attribute("custom_model_units_per_model_copy")


def _deploy_problems(region: str | None, props: ImportedModelProps) -> list[tuple[str, str]]:
    """Props the import job or its grants could not work with, as the spec refuses them: a Region
    without Custom Model Import, an owner Bedrock refuses as a tag value, a weights key that is no
    key's ARN or of another Region (the grants decrypt through S3 in the stack's Region), a VPC
    configuration that is not the request's ``VpcConfig``. The Region checks need the stack's
    Region (an environment-agnostic stack is checked by the handler at deploy)."""
    problems: list[tuple[str, str]] = []
    if region is not None and (problem := region_problem(region, "this stack")) is not None:
        problems.append(("the stack's env region", problem))  # no prop of its own: where the stack deploys
    if (problem := owner_problem(props.owner)) is not None:
        problems.append(("owner", problem))
    if props.weights_kms_key_arn is not None:
        if (problem := kms_key_arn_problem(props.weights_kms_key_arn)) is not None:
            problems.append(("weights_kms_key_arn", problem))
        elif region is not None and (
            problem := key_region_problem(props.weights_kms_key_arn, region, "this stack imports")
        ):
            problems.append(("weights_kms_key_arn", problem))
    if props.vpc_config is not None and (problem := vpc_config_problem(props.vpc_config)) is not None:
        problems.append(("vpc_config", problem))
    return problems


def _grant_handler(grants: KindGrants, stack: Stack, props: ImportedModelProps) -> None:
    env = environment_of(stack)
    here = f"arn:{env.partition}:bedrock:{env.region}:{env.account}"
    jobs, models = f"{here}:model-import-job/*", f"{here}:imported-model/*"
    owned: dict[str, Any] = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner}}
    requested = {"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": props.owner}}
    # CreateModelImportJob takes no resource: the owner tag the request must carry is its only scope.
    grants.allow_unscoped_calls(
        "create_model_import_job",
        reason="CreateModelImportJob supports no resource-level permissions; the handler may create only import "
        "jobs carrying this stage's owner tag.",
        conditions=requested,
    )
    grants.allow_dependents("create_model_import_job", on="created", resources=[jobs, models], conditions=requested)
    # Tags changed in place: only on what this stage owns, never the owner tag itself.
    grants.allow_calls(
        "tag_resource",
        "untag_resource",
        resources=[jobs, models],
        conditions={**owned, "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG]}},
    )
    grants.allow_calls("get_model_import_job", resources=[jobs])
    grants.allow_calls("get_imported_model", resources=[models])
    if props.removal == "destroy":
        grants.allow_calls("delete_imported_model", resources=[models], conditions=owned)
    grants.allow_dependents(
        "create_model_import_job",
        on="passed-role",
        resources=[props.role.role_arn],
        conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
    )
    if props.key is not None:
        grants.allow_dependents(
            "create_model_import_job",
            on="key",
            key="custom-model",
            resources=[key_arn(props.key)],
            conditions={"StringEquals": {"kms:ViaService": f"bedrock.{env.region}.amazonaws.com"}},
        )
    # The pre-flight: the folder's listing, its config.json (the one file whose content it reads),
    # and each file's checksum (HeadObject, which IAM authorizes as s3:GetObject on the file: there
    # is no narrower action, so the handler may read the folder it checks, and no other).
    bucket, folder = split_s3_uri(props.weights_s3_uri)
    files = f"arn:{env.partition}:s3:::{bucket}/{folder}*"
    grants.allow_calls(
        "list_objects_v2",
        resources=[f"arn:{env.partition}:s3:::{bucket}"],
        conditions={"StringEquals": {"s3:prefix": folder}},
    )
    grants.allow_calls("get_object", "head_object", resources=[files])
    if props.weights_kms_key_arn:
        # S3 API reference, "HeadObject" (read 2026-12-07): the checksum of an SSE-KMS object is
        # returned only to a caller that may decrypt with its key.
        grants.allow_dependents(
            "get_object",
            "head_object",
            on="key",
            key="dataset",
            resources=[props.weights_kms_key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{env.region}.amazonaws.com"}},
        )
    grants.acknowledge(
        [
            (
                f"AwsSolutions-IAM5[Resource::{grants.spelling(jobs)}]",
                "Import job ARNs end in an id Bedrock assigns at creation; the estate cannot name them in advance.",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{grants.spelling(models)}]",
                "Imported model ARNs end in an id Bedrock assigns when the import completes.",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{grants.spelling(files)}]",
                "The pre-flight reads the checksum of every file of the model's weights folder (HeadObject, "
                "authorized as s3:GetObject), whose names the model's author chose; only that folder of that bucket.",
            ),
        ]
    )


def imported_models_for_stage(
    stack: Stack,
    stage: StageSettings,
    *,
    custom_model_key: kms.IKey,
    logging: ProviderLogging,
    datasets: StageDatasets,
) -> dict[str, ImportedModel]:
    """The estate's builder of a stage's ``imports`` section (``spec.model_import.IMPORTS``): one
    imported model per entry, all run as one role of the stage's, in ``stack``. An entry without
    its own key is encrypted with ``custom_model_key``; no entry reads a spec dataset (``datasets``)."""
    entries = IMPORTS.entries(stage)
    if not entries:
        return {}
    role = ModelImportRole(
        stack,
        "ModelImportRole",
        ModelImportRoleProps(description=f"{stage.qualifier}: Bedrock runs the stage's model imports as this role"),
    )
    imported = {}
    for name, entry in entries.items():
        key = (
            kms.Key.from_key_arn(stack, f"Import-{name}-Key", entry.kms_key_arn)
            if entry.kms_key_arn
            else custom_model_key
        )
        vpc = entry.vpc
        imported[name] = ImportedModel(
            stack,
            f"Import-{name}",
            ImportedModelProps(
                name=stage.names.named(name),
                weights_s3_uri=entry.weights.s3_uri,
                role=role,
                owner=stage.qualifier,
                logging=logging,
                key=key,
                weights_kms_key_arn=entry.weights.kms_key_arn,
                vpc_config={"subnetIds": list(vpc.subnet_ids), "securityGroupIds": list(vpc.security_group_ids)}
                if vpc
                else None,
                removal=entry.removal,
                weights_digest=entry.weights.digest,
                tags={**stage.tags, **entry.tags, "estate-stage": stage.name, "estate-import": name},
            ),
        )
    return imported
