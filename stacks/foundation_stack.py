"""Foundation: the keys, buckets, service role and invocation logging every later stack builds on."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib.conversions import log_retention, removal_policy
from constructs_lib.customization_role import CustomizationServiceRole
from constructs_lib.estate_key import EstateKey, EstateKeyProps
from constructs_lib.invocation_logging import InvocationLogging, InvocationLoggingProps
from constructs_lib.secure_bucket import SecureBucket, SecureBucketProps
from constructs_lib.spec import StageSettings

# Key prefixes inside the buckets; the service role's access is scoped to them.
DATASETS_PREFIX = "datasets/"
OUTPUT_PREFIX = "jobs/"
INVOCATION_LOGS_PREFIX = "invocation-logs"


class FoundationStack(Stack):
    """Per stage: data and custom-model keys, four secure buckets, the customization service role,
    and the account/region model invocation logging configuration."""

    def __init__(self, scope: Construct, id: str, *, stage: StageSettings, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.stage = stage
        removal = removal_policy(stage.removal)
        retention = stage.retention
        self.log_group_prefix = f"/{stage.qualifier}/"

        self.data_key = EstateKey(
            self,
            "DataKey",
            EstateKeyProps(
                alias=f"{stage.qualifier}/data",
                description=f"{stage.qualifier}: training data, job output, invocation logs and log groups",
                removal_policy=removal,
            ),
        )
        self.data_key.grant_cloudwatch_logs(self.log_group_prefix)
        self.custom_model_key = EstateKey(
            self,
            "CustomModelKey",
            EstateKeyProps(
                alias=f"{stage.qualifier}/custom-models",
                description=f"{stage.qualifier}: custom models trained by Amazon Bedrock",
                removal_policy=removal,
            ),
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
                    log_group_name=f"{self.log_group_prefix}model-invocations",
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
                    log_retention=log_retention(retention.log_group_days),
                    removal_policy=removal,
                ),
            )
            if logging.s3:
                # Distillation from invocation logs reads what S3 delivery wrote.
                self.service_role.grant_read_data(self.invocation_log_bucket, f"{INVOCATION_LOGS_PREFIX}/")

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
        }
        for output_id, (parameter, value) in values.items():
            CfnOutput(self, output_id, value=value)
            ssm.StringParameter(
                self,
                f"{output_id}Parameter",
                parameter_name=f"/{self.stage.estate}/{self.stage.name}/foundation/{parameter}",
                string_value=value,
                description=f"{self.stage.qualifier} foundation: {parameter}",
            )

