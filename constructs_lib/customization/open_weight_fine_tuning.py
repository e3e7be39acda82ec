"""OpenWeightFineTuningJob: reinforcement fine-tuning of an open-weight model (gpt-oss-20b, Qwen3
32B) through Bedrock's OpenAI-compatible fine-tuning API, with a Lambda grader.

Its custom resource (``estate_runtime.kinds.open_weight_rft``) checks the training file before
anything bills, uploads it with purpose ``fine-tune``, starts one job whatever is retried, and
cancels a live job on delete or rollback. ``fine_tuned_model`` is the model id to call on the same
endpoint once the job succeeded. What the user guide leaves open, and so what this construct
chose, is in ``docs/open-weight-rft.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from aws_cdk import CfnOutput, Stack, Token
from aws_cdk import aws_kms as kms
from constructs import Construct

from estate_runtime.kinds import JobNameParts
from estate_runtime.kinds.open_weight_rft import (
    KIND,
    Hyperparameters,
    OpenWeightFineTuningAttributes,
    OpenWeightFineTuningProperties,
    grader_arn_problem,
)
from estate_runtime.naming import JobNames, content_hash, readable_name
from estate_runtime.s3_uri import is_s3_uri, split_s3_uri

from ..machinery.references import environment_of
from ..machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging
from ..machinery.validation import check_prop_types, refuse
from ..spec.open_weight import OPEN_WEIGHT
from ..spec.stages import StageSettings
from .estate_dataset import EstateDataset, StageDatasets, content_identity
from .rft_grader import RftGrader, RftGraderProps

# "Create and manage fine-tuning jobs for open-weight models using OpenAI APIs" and the issue's
# brief (read 2026-12-07): the models open-weight RFT takes, by the ids the endpoint uses.
OPEN_WEIGHT_RFT_MODELS = ("openai.gpt-oss-20b", "qwen.qwen3-32b")
_HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")

PROJECTS_REASON = (
    "The fine-tuning API acts in a project the user guide does not name (docs/open-weight-rft.md, gap 2); "
    "the grant is limited to this account's projects in this Region."
)
"""Why a grant on the ``bedrock-mantle`` endpoint names every project of the account and Region: the
acknowledged ``AwsSolutions-IAM5`` finding of each role that calls it (the job's handler, the gate's)."""


def mantle_projects(partition: str, region: str, account: str) -> str:
    """The resource a ``bedrock-mantle`` grant names. Every files, fine-tuning and inference action
    requires a ``project`` (Service Authorization Reference, read 2026-12-07 and 2026-12-08), and no
    page read says which project the endpoint acts in without one, nor how a request names one: the
    account's projects in the Region."""
    return f"arn:{partition}:bedrock-mantle:{region}:{account}:project/*"


@dataclass(frozen=True, kw_only=True)
class OpenWeightFineTuningJobProps:
    name: str
    """Readable part of the training file's name (the job's identity), e.g. ``team-dev-math``."""

    base_model: str
    """``openai.gpt-oss-20b`` or ``qwen.qwen3-32b``."""

    logging: ProviderLogging

    grader: RftGrader | None = None
    """A grader the app deploys (``RftGrader``): the job is given its function's ARN, identified by
    its code (``RftGrader.identity``: a code change trains a new job, a timeout or memory change
    does not), and created after it. Give this or ``grader_function_arn``."""

    grader_function_arn: str | None = None
    """An existing reward function's Lambda ARN, in the stack's account and Region. Give this or ``grader``."""

    hyperparameters: dict[str, int | float] | None = None
    """``n_epochs``, ``batch_size``, ``learning_rate_multiplier`` (the guide's example names). Default: the service's."""

    training_data: EstateDataset | None = None
    """The JSONL training file from the repository, copied into the stage's data bucket
    (``EstateDataset``): the handler may read exactly that object, and a change of the file's
    content trains a new job. Give this or ``training_data_s3_uri``."""

    training_data_s3_uri: str | None = None
    """``s3://bucket/key`` of a JSONL training file already in S3: ``messages`` and ``reference_answer``
    per line, 100-20K lines. Give this or ``training_data``."""

    training_data_kms_key_arn: str | None = None
    """The key of an SSE-KMS ``training_data_s3_uri`` file, so the handler can read it for the check."""


class OpenWeightFineTuningJob(Construct):
    """``Custom::BedrockOpenWeightFineTuningJob``."""

    def __init__(self, scope: Construct, id: str, props: OpenWeightFineTuningJobProps):
        super().__init__(scope, id)
        check_prop_types(self, props)
        readable = readable_name(props.name)
        problems = _data_problems(props)
        if not readable:
            problems.append(("name", f"{props.name!r} needs at least one letter or digit"))
        if props.base_model not in OPEN_WEIGHT_RFT_MODELS:
            problems.append(
                (
                    "base_model",
                    f"{props.base_model!r} is not a model open-weight reinforcement fine-tuning takes; use one of "
                    f"{', '.join(OPEN_WEIGHT_RFT_MODELS)}",
                )
            )
        if (props.grader is None) == (props.grader_function_arn is None):
            problems.append(
                (
                    "grader",
                    "give exactly one of grader (an RftGrader the app deploys) or grader_function_arn (an existing "
                    "Lambda function's ARN)",
                )
            )
        elif props.grader_function_arn is not None and not Token.is_unresolved(props.grader_function_arn):
            if grader := grader_arn_problem(props.grader_function_arn):
                problems.append(("grader_function_arn", grader))
        hyperparameters = None
        if props.hyperparameters:
            unknown = sorted(set(props.hyperparameters) - set(_HYPERPARAMETERS))
            wrong = sorted(
                k for k, v in props.hyperparameters.items() if isinstance(v, bool) or not isinstance(v, (int, float))
            )
            if unknown or wrong:
                problems.append(
                    (
                        "hyperparameters",
                        f"takes numbers for {', '.join(_HYPERPARAMETERS)}"
                        + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                        + (f"; not a number: {', '.join(wrong)}" if wrong else ""),
                    )
                )
            else:
                hyperparameters = Hyperparameters(**props.hyperparameters)  # type: ignore[arg-type]
        refuse(self, problems)
        stack = Stack.of(self)
        uri = props.training_data.s3_uri if props.training_data is not None else props.training_data_s3_uri
        assert uri is not None  # _data_problems: exactly one of the two
        # Every open-weight page names the grader by its function's ARN (no version), and grants
        # lambda:InvokeFunction on that ARN: an app's grader is given so, and identified by its code.
        grader_arn = props.grader.function.function_arn if props.grader is not None else props.grader_function_arn
        assert grader_arn is not None  # exactly one of the two, checked above
        identity = {
            "model": props.base_model,
            # A repository file by its name and content (its s3_uri is a reference, the same for every
            # content): new data is a new digest, so a new training file and job.
            "data": content_identity(uri),
            "grader": props.grader.identity if props.grader is not None else grader_arn,
            "hyperparameters": hyperparameters.to_cfn() if hyperparameters else None,
        }
        self.names = JobNames(readable=readable, digest=content_hash(stack.resolve(identity)))
        """The readable part and the digest; the handler adds the file's content hash to the file's name."""

        grants = EstateProvider.of(self, props.logging, stack=stack).serve(KIND)
        _grant_handler(grants, stack, props, grader_arn)
        self.resource = grants.resource(
            self,
            "Resource",
            OpenWeightFineTuningProperties(
                name_parts=JobNameParts(readable=self.names.readable, digest=self.names.digest),
                base_model=props.base_model,
                training_data_s3_uri=uri,
                grader_function_arn=grader_arn,
                hyperparameters=hyperparameters,
            ),
        )
        if props.grader is not None:
            # Created after the grader and its role's policy (Bedrock invokes it once training starts),
            # deleted before them: a job being cancelled still has its grader.
            self.resource.node.add_dependency(props.grader)

    def _attribute(self, name: str) -> str:
        return self.resource.get_att_string(OpenWeightFineTuningAttributes.key(name))

    @cached_property
    def job_id(self) -> str:
        return self._attribute("job_id")

    @cached_property
    def fine_tuned_model(self) -> str:
        """The model id to call on the endpoint once the job succeeded (absent until then)."""
        return self._attribute("fine_tuned_model")


def _data_problems(props: OpenWeightFineTuningJobProps) -> list[tuple[str, str]]:
    """Exactly one training file: a repository dataset or an S3 object, each with what it takes."""
    if (props.training_data is None) == (props.training_data_s3_uri is None):
        return [
            (
                "training_data",
                "give exactly one of training_data (an EstateDataset: a repository file the estate uploads) or "
                "training_data_s3_uri (a file already in S3)",
            )
        ]
    if props.training_data is not None:
        if props.training_data_kms_key_arn is not None:
            return [
                (
                    "training_data_kms_key_arn",
                    "applies to training_data_s3_uri only; the handler is granted the key of the dataset's bucket",
                )
            ]
        return []
    uri = props.training_data_s3_uri or ""
    bucket, key = split_s3_uri(uri)
    if not is_s3_uri(uri) or not bucket or not key or key.endswith("/"):
        return [("training_data_s3_uri", f"{uri!r} is not s3://bucket/key of a file")]
    return []


def _grant_handler(grants: KindGrants, stack: Stack, props: OpenWeightFineTuningJobProps, grader_arn: str) -> None:
    env = environment_of(stack)
    projects = mantle_projects(env.partition, env.region, env.account)
    grants.allow_calls(
        "create_file",
        "list_files",
        "delete_file",
        "create_fine_tuning_job",
        "get_fine_tuning_job",
        "list_fine_tuning_jobs",
        "cancel_fine_tuning_job",
        resources=[projects],
    )
    grants.allow_dependents("create_fine_tuning_job", on="grader", resources=[grader_arn])
    # The handler reads the training file to check it before anything bills: exactly that object,
    # and its key only through S3 in the stage's Region.
    dataset = props.training_data
    if dataset is not None:
        data_object = dataset.bucket.arn_for_objects(dataset.key)
        data_key = dataset.bucket.encryption_key.key_arn if dataset.bucket.encryption_key is not None else None
    else:
        bucket, key = split_s3_uri(props.training_data_s3_uri or "")
        data_object, data_key = f"arn:{env.partition}:s3:::{bucket}/{key}", props.training_data_kms_key_arn
    grants.allow_calls("get_object", resources=[data_object])
    if data_key:
        grants.allow_dependents(
            "get_object",
            on="key",
            key="dataset",
            resources=[data_key],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{env.region}.amazonaws.com"}},
        )
    grants.acknowledge(
        [
            (
                f"AwsSolutions-IAM5[Resource::{grants.spelling(projects)}]",
                PROJECTS_REASON,
            )
        ]
    )


def open_weight_jobs_for_stage(
    stack: Stack,
    stage: StageSettings,
    *,
    custom_model_key: kms.IKey,
    logging: ProviderLogging,
    datasets: StageDatasets,
) -> dict[str, OpenWeightFineTuningJob]:
    """The estate's builder of a stage's ``openWeightFineTuning`` section (``spec.open_weight.OPEN_WEIGHT``):
    one job per entry, in ``stack``; a ``trainingData.dataset`` that is a repository file is the
    stage's copy of it (``datasets``, shared with the customization jobs that read it); a
    ``graderHandler`` is deployed as an ``RftGrader`` of the stage. The API takes no key, so
    ``custom_model_key`` is not used."""
    jobs = {}
    for name, entry in OPEN_WEIGHT.entries(stage).items():
        hyperparameters = entry.hyperparameters.model_dump(exclude_none=True) if entry.hyperparameters else None
        data = entry.training_data
        source = datasets.source(data.dataset) if data.dataset is not None else None
        handler = entry.grader_handler
        if handler is not None and stage.base_dir is None:
            raise ValueError(
                f"open_weight_jobs_for_stage {stage.name}: resolve the stage with its grader files, "
                "spec.stage(name, base_dir)"
            )
        grader = (
            RftGrader(
                stack,
                f"OpenWeightGrader-{name}",
                RftGraderProps.of_handler(
                    handler,
                    name=stage.names.open_weight_grader_function(name),
                    code=(stage.base_dir or Path()) / handler.file,
                    logging=logging,
                    description=f"{stage.qualifier}: reinforcement fine-tuning grader of open-weight job {name}",
                ),
            )
            if handler is not None
            else None
        )
        jobs[name] = OpenWeightFineTuningJob(
            stack,
            f"OpenWeight-{name}",
            OpenWeightFineTuningJobProps(
                name=stage.names.named(name),
                base_model=entry.base_model,
                training_data=datasets.copy(source) if source is not None and source.path is not None else None,
                training_data_s3_uri=source.s3_uri if source is not None else data.s3_uri,
                training_data_kms_key_arn=source.kms_key_arn if source is not None else data.kms_key_arn,
                grader=grader,
                grader_function_arn=entry.grader_function_arn,
                logging=logging,
                hyperparameters=hyperparameters or None,
            ),
        )
        # One output per job (a stack holds at most 200): bench and gate find the job by it and read
        # its fine-tuned model when they run, since training ends long after the deployment.
        CfnOutput(
            stack,
            stage.names.open_weight_job_id_output(name),
            value=jobs[name].job_id,
            description=f"The fine-tuning job of openWeightFineTuning.{name}: its fine_tuned_model is served on demand",
        )
    return jobs
