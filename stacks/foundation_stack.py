"""Foundation: the keys, buckets, service role and invocation logging every later stack builds on."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from aws_cdk import CfnOutput, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib.foundation.customization_role import CustomizationServiceRole
from constructs_lib.foundation.estate_key import EstateKey, EstateKeyProps
from constructs_lib.foundation.notification_topic import NotificationTopic, NotificationTopicProps
from constructs_lib.foundation.pull_request_diff_role import PullRequestDiffRole, PullRequestDiffRoleProps
from constructs_lib.foundation.secure_bucket import SecureBucket, SecureBucketProps
from constructs_lib.invocation_logging.invocation_logging import InvocationLogging, InvocationLoggingProps
from constructs_lib.spec import StageSettings
from stacks.spec_values import log_retention, removal_policy

# Key prefixes inside the buckets; the service role's access is scoped to them.
DATASETS_PREFIX = "datasets/"
OUTPUT_PREFIX = "jobs/"
INVOCATION_LOGS_PREFIX = "invocation-logs"


class FoundationRefs:
    """The foundation as a later stack of the same stage sees it: the foundation's named exports,
    imported (``Fn::ImportValue``). CloudFormation resolves them itself, so the role ARN, key ARNs
    and bucket names that grants are made of are constants of the deployment: an SSM parameter
    anyone with ``ssm:PutParameter`` could rewrite would redirect those grants at the next deploy.
    The later stack still deploys on its own once the foundation exists. Each value is imported
    on first use only."""

    def __init__(self, scope: Construct, stage: StageSettings):
        self._scope = scope
        self._stage = stage
        self.log_group_prefix = stage.names.log_group_prefix

    def _value(self, name: str) -> str:
        return Fn.import_value(self._stage.names.export(name))

    def _bucket(self, id: str, name: str) -> s3.IBucket:
        return s3.Bucket.from_bucket_attributes(
            self._scope, id, bucket_name=self._value(name), encryption_key=self.data_key
        )

    @cached_property
    def data_key(self) -> kms.IKey:
        return kms.Key.from_key_arn(self._scope, "DataKey", self._value("data-key-arn"))

    @cached_property
    def training_bucket(self) -> s3.IBucket:
        return self._bucket("TrainingBucket", "training-bucket-name")

    @cached_property
    def output_bucket(self) -> s3.IBucket:
        return self._bucket("OutputBucket", "output-bucket-name")

    @cached_property
    def output_bucket_name(self) -> str:
        """Read once: every job's output URI names it."""
        return self.output_bucket.bucket_name

    @cached_property
    def invocation_log_bucket(self) -> s3.IBucket:
        return self._bucket("InvocationLogBucket", "invocation-log-bucket-name")

    @cached_property
    def custom_model_key(self) -> kms.IKey:
        return kms.Key.from_key_arn(self._scope, "CustomModelKey", self._value("custom-model-key-arn"))

    @cached_property
    def service_role(self) -> iam.IRole:
        return iam.Role.from_role_arn(
            self._scope, "CustomizationRole", self._value("customization-role-arn"), mutable=False
        )


class FoundationStack(Stack):
    """Per stage: data, custom-model and notification keys, four secure buckets, the customization service role,
    the account/region model invocation logging configuration, and the notification topic."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        emails: list[str],
        promoted_to: list[tuple[str, str]] | None = None,
        pull_request_diff: PullRequestDiffRoleProps | None = None,
        **kwargs: Any,
    ) -> None:
        """``promoted_to``: (account, region) of each later stage that copies a model this stage
        trains (encrypted with its custom-model key, which must admit them).
        ``pull_request_diff``: the role the pull-request workflow's ``cdk diff`` assumes in this
        account, when this stage provisions it (see ``estate_stage.pull_request_diff``)."""
        super().__init__(scope, id, **kwargs)
        self.stage = stage
        removal = removal_policy(stage.removal)
        retention = stage.retention
        self.log_group_prefix = stage.names.log_group_prefix

        self.data_key = EstateKey(
            self,
            "DataKey",
            EstateKeyProps(
                alias=stage.names.key_alias("data"),
                description=f"{stage.qualifier}: training data, job output, invocation logs and log groups",
                removal_policy=removal,
            ),
        )
        self.data_key.grant_cloudwatch_logs(self.log_group_prefix)
        self.custom_model_key = EstateKey(
            self,
            "CustomModelKey",
            EstateKeyProps(
                alias=stage.names.key_alias("custom-models"),
                description=f"{stage.qualifier}: custom models trained by Amazon Bedrock",
                removal_policy=removal,
            ),
        )

        # The notification topic's own key: SNS's KMS requests for EventBridge deliveries carry no
        # source conditions, so its key statement for events.amazonaws.com has none (see
        # NotificationTopic), and that must not sit on the key of training data and invocation logs.
        self.notification_key = EstateKey(
            self,
            "NotificationKey",
            EstateKeyProps(
                alias=stage.names.key_alias("notifications"),
                description=f"{stage.qualifier}: messages of the notification topic",
                removal_policy=removal,
            ),
        )

        # Bedrock itself decrypts Nova custom models it serves, by the model's encryption context
        # (Nova user guide, 'Encryption of Amazon Nova model customization jobs').
        self.custom_model_key.grant_bedrock_custom_models()

        if promoted_to:
            # Later stages copy models this stage shares with them: their copy jobs read the model
            # through Bedrock. The guide's key policy for "the key that encrypts the source model to
            # be copied" is kms:Decrypt through Bedrock, and nothing more.
            self.custom_model_key.grant_accounts_via_service(
                "PromotionCopiesViaBedrock",
                [account for account, _ in promoted_to],
                ["kms:Decrypt"],
                "bedrock",
                regions=sorted({stage.region, *(region for _, region in promoted_to)}),
            )

        self.access_logs = SecureBucket(
            self,
            "AccessLogs",
            SecureBucketProps(
                encryption_key=None,
                access_logs_bucket=None,
                noncurrent_version_days=retention.noncurrent_version_days,
                expiration_days=retention.access_log_days,
                removal_policy=removal,
            ),
        )

        def data_bucket(id: str, log_prefix: str) -> SecureBucket:
            return SecureBucket(
                self,
                id,
                SecureBucketProps(
                    encryption_key=self.data_key,
                    access_logs_bucket=self.access_logs,
                    access_logs_prefix=log_prefix,
                    noncurrent_version_days=retention.noncurrent_version_days,
                    removal_policy=removal,
                ),
            )

        self.training_bucket = data_bucket("TrainingData", "training-data/")
        self.output_bucket = data_bucket("Output", "output/")
        self.invocation_log_bucket = data_bucket("InvocationLogs", "invocation-logs/")

        self.service_role = CustomizationServiceRole(self, "CustomizationRole")
        # Only a stage that trains passes the role to Bedrock: elsewhere it stays without permissions
        # (its ARN is still published, so adding a first job changes only this policy). A job entry that
        # adopts a model trained outside the estate trains nothing.
        trains = any(job.adopt is None for job in stage.jobs.values())
        if trains:
            self.service_role.grant_read_data(self.training_bucket, DATASETS_PREFIX)
            self.service_role.grant_write_output(self.output_bucket, OUTPUT_PREFIX)
            self.service_role.grant_custom_model_key(self.custom_model_key)

        self.invocation_logging: InvocationLogging | None = None
        logging = stage.invocation_logging
        if logging.enabled:
            self.invocation_logging = InvocationLogging(
                self,
                "InvocationLogging",
                InvocationLoggingProps(
                    bucket=self.invocation_log_bucket,
                    key=self.data_key,
                    log_group_name=stage.names.invocation_log_group,
                    log_group_prefix=self.log_group_prefix,
                    s3_prefix=INVOCATION_LOGS_PREFIX,
                    s3_delivery=logging.s3,
                    cloud_watch_delivery=logging.cloud_watch,
                    text=logging.data_delivery.text,
                    image=logging.data_delivery.image,
                    embedding=logging.data_delivery.embedding,
                    video=logging.data_delivery.video,
                    audio=logging.data_delivery.audio,
                    adopt_existing=logging.adopt_existing,
                    saved_configuration_parameter=stage.names.saved_invocation_logging,
                    # The estate's role serves the stages that adopt; the others have nothing to give back.
                    adopted_delivery_role_arn=logging.adopted_delivery_role_arn if logging.adopt_existing else None,
                    log_retention=log_retention(retention.log_group_days),
                    removal_policy=removal,
                ),
            )
            if logging.s3 and trains:
                # Distillation from invocation logs reads what S3 delivery wrote.
                self.service_role.grant_read_data(self.invocation_log_bucket, f"{INVOCATION_LOGS_PREFIX}/")

        self.topic = NotificationTopic(
            self,
            "Notifications",
            NotificationTopicProps(
                key=self.notification_key,
                event_rule_prefix=stage.names.prefix,
                alarm_prefix=stage.names.prefix,
                emails=emails,
                display_name=f"{stage.qualifier} Bedrock estate",
                topic_name=stage.names.topic,
            ),
        )

        self.pull_request_diff: PullRequestDiffRole | None = None
        if pull_request_diff is not None:
            self.pull_request_diff = PullRequestDiffRole(self, "PullRequestDiff", pull_request_diff)

        self._publish()

    def _publish(self) -> None:
        """Stack outputs for people, SSM parameters for later stacks and stages."""
        values = {
            "TrainingBucketName": ("training-bucket-name", self.training_bucket.bucket_name),
            "OutputBucketName": ("output-bucket-name", self.output_bucket.bucket_name),
            "InvocationLogBucketName": ("invocation-log-bucket-name", self.invocation_log_bucket.bucket_name),
            "AccessLogBucketName": ("access-log-bucket-name", self.access_logs.bucket_name),
            "CustomizationRoleArn": ("customization-role-arn", self.service_role.role_arn),
            "DataKeyArn": ("data-key-arn", self.data_key.key_arn),
            "CustomModelKeyArn": ("custom-model-key-arn", self.custom_model_key.key_arn),
            "NotificationTopicArn": ("notification-topic-arn", self.topic.topic_arn),
        }
        for output_id, (parameter, value) in values.items():
            CfnOutput(self, output_id, value=value, export_name=self.stage.names.export(parameter))
            ssm.StringParameter(
                self,
                f"{output_id}Parameter",
                parameter_name=self.stage.names.parameter(parameter),
                string_value=value,
                description=f"{self.stage.qualifier} foundation: {parameter}",
            )
