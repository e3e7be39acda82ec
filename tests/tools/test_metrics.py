"""``bedrock-estate metrics`` offline: moto's S3, SSM and Bedrock with metric files in Bedrock's layout
(training_artifacts/step_wise_training_metrics.csv, validation_artifacts/post_fine_tuning_validation/
validation_metrics.csv under model-customization-job-<id>/ in the job's output prefix)."""

from __future__ import annotations

import argparse

import boto3
import pytest
from moto import mock_aws

from constructs_lib.spec import load_spec
from constructs_lib.tools import metrics
from constructs_lib.tools.cli import main
from estate_runtime.naming import job_names

from ..conftest import DEFAULT_FIXTURE

REGION = "us-west-2"  # the default fixture's dev stage
BUCKET = "bedrock-estate-dev-output-123"
ROLE = "arn:aws:iam::123456789012:role/bedrock-estate-dev-customization"

# Two epochs of 4 steps; validation once per epoch. Training falls throughout; validation falls
# then rises (epoch 0 -> epoch 1): the overfitting signal.
TRAINING_CSV = """step_number,epoch_number,training_loss,perplexity
0,0,2.0,7.39
1,0,1.6,4.95
2,0,1.2,3.32
3,0,1.0,2.72
4,1,0.8,2.23
5,1,0.6,1.82
6,1,0.5,1.65
7,1,0.4,1.49
"""
VALIDATION_CSV = """step_number,epoch_number,validation_loss,perplexity
3,0,1.1,3.0
7,1,1.3,3.67
"""


def _names(attempt: int = 1) -> str:
    names = job_names("bedrock-estate", "dev", "summarizer", "ab" * 32)
    for _ in range(attempt - 1):
        names = names.next_attempt()
    return names.job_name


@pytest.fixture()
def aws(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        session.client("ssm").put_parameter(
            Name="/bedrock-estate/dev/foundation/output-bucket-name", Value=BUCKET, Type="String"
        )
        yield session


def _job(session, name: str, epochs: str = "2") -> str:
    """A Bedrock job (moto: the ARN ends in the job name); returns the output folder's job id."""
    arn = session.client("bedrock").create_model_customization_job(
        jobName=name,
        customModelName=name,
        roleArn=ROLE,
        baseModelIdentifier="anthropic.claude-3-haiku-20240307-v1:0:200k",
        trainingDataConfig={"s3Uri": f"s3://{BUCKET}/datasets/train.jsonl"},
        outputDataConfig={"s3Uri": f"s3://{BUCKET}/jobs/summarizer/"},
        hyperParameters={"epochCount": epochs},
    )["jobArn"]
    return arn.rsplit("/", 1)[-1]


def _files(
    session, job_id: str, training: str = TRAINING_CSV, validation: str | None = VALIDATION_CSV, deeper: bool = False
) -> None:
    s3 = session.client("s3")
    folder = f"jobs/summarizer/model-customization-job-{job_id}"
    s3.put_object(
        Bucket=BUCKET, Key=f"{folder}/training_artifacts/step_wise_training_metrics.csv", Body=training.encode()
    )
    if validation is not None:
        middle = "post_fine_tuning_validation/validation" if deeper else "post_fine_tuning_validation"
        s3.put_object(
            Bucket=BUCKET,
            Key=f"{folder}/validation_artifacts/{middle}/validation_metrics.csv",
            Body=validation.encode(),
        )


def _args(tmp_path, **extra) -> argparse.Namespace:
    values = {
        "stage": "dev",
        "job": None,
        "spec": str(DEFAULT_FIXTURE),
        "out": str(tmp_path / "charts"),
        "profile": None,
    }
    return argparse.Namespace(**{**values, **extra})


def test_reads_a_jobs_metrics_prints_its_table_and_writes_its_chart(aws, tmp_path, capsys):
    job_id = _job(aws, _names())
    _files(aws, job_id)
    assert metrics.main(_args(tmp_path), session=aws) == 0
    out = capsys.readouterr().out
    name = _names()
    assert f"## summarizer: {name} (InProgress)" in out
    assert "| points | 8 | 2 |" in out
    assert "| steps | 0-7 | 3-7 |" in out
    assert "| epochs | 2 | 2 |" in out
    assert "| first loss | 2.0000 | 1.1000 |" in out
    assert "| final loss | 0.4000 | 1.3000 |" in out
    assert "| minimum loss | 0.4000 (step 7) | 1.1000 (step 3) |" in out
    assert (
        "validation loss rose while training loss fell: yes: steps 3->7, validation 1.1->1.3 while training 1->0.4"
        in out
    )
    assert (tmp_path / "charts" / f"{name}.png").is_file()


def test_the_png_renders_two_curves(aws, tmp_path):
    import matplotlib.image

    _files(aws, _job(aws, _names()))
    assert metrics.main(_args(tmp_path), session=aws) == 0
    path = tmp_path / "charts" / f"{_names()}.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (450, 800)  # 8 x 4.5 inches at 100 dpi
    assert pixels[..., :3].std() > 0.05  # not a blank canvas
    blue = ((pixels[..., 2] > 0.6) & (pixels[..., 0] < 0.3)).sum()  # tab:blue training curve
    orange = ((pixels[..., 0] > 0.9) & (pixels[..., 1] > 0.4) & (pixels[..., 1] < 0.6) & (pixels[..., 2] < 0.2)).sum()
    assert blue > 200 and orange > 200


def test_retries_each_get_their_own_table_and_early_stopping_is_named(aws, tmp_path, capsys):
    first, retry = _job(aws, _names()), _job(aws, _names(2), epochs="3")
    _files(aws, first)
    # The retry stopped after one of its three epochs, steps counted again from 0 in each file.
    _files(
        aws,
        retry,
        training="step_number,epoch_number,training_loss,perplexity\n0,1,1.5,4.5\n1,1,1.1,3.0\n",
        validation=None,
        deeper=True,
    )
    aws.client("bedrock").stop_model_customization_job(jobIdentifier=_names())  # moto: by name
    assert metrics.main(_args(tmp_path, job="summarizer"), session=aws) == 0
    out = capsys.readouterr().out
    assert f"## summarizer: {_names()} (Stopped)" in out and f"## summarizer: {_names(2)} (InProgress)" in out
    assert "early stopping: no: stopped by request after 2 epoch(s)" in out
    assert "validation loss rose while training loss fell: unknown (no validation metrics)" in out


def test_a_completed_job_with_fewer_epochs_than_requested_stopped_early():
    run = metrics.Run(job="j", run="j-1", status="Completed", epoch_count=3)
    run.training, run.validation = metrics.build_points(
        [(0, 1, 1.0), (1, 1, 0.8), (0, 2, 0.7), (1, 2, 0.6)], [(1, 1, 0.9), (1, 2, 0.85)]
    )
    assert run.early_stopping() == "yes: stopped after 2 of 3 epochs"
    # Steps restart per epoch: the second epoch is placed after the first, validation with it.
    assert [p.step for p in run.training] == [0, 1, 2, 3] and [p.step for p in run.validation] == [1, 3]
    assert run.divergence() == "no"


def test_repeated_rows_for_a_step_are_averaged():
    training, _ = metrics.build_points([(0, 0, 1.0), (0, 0, 3.0), (1, 0, 1.0)], [])
    assert [(p.step, p.loss) for p in training] == [(0, 2.0), (1, 1.0)]


def test_a_bad_row_is_named_by_file_and_line():
    with pytest.raises(metrics.MetricsError, match=r"s3://b/k:3: not a number"):
        metrics.parse_metrics_csv(
            "step_number,epoch_number,training_loss\n0,0,1.0\n1,0,oops\n", "training_loss", "s3://b/k"
        )
    with pytest.raises(metrics.MetricsError, match="no column training_loss"):
        metrics.parse_metrics_csv("step_number,epoch_number,loss\n", "training_loss", "s3://b/k")


def test_the_bucket_comes_from_the_foundation_stack_when_the_parameter_is_missing(aws, tmp_path, capsys):
    aws.client("ssm").delete_parameter(Name="/bedrock-estate/dev/foundation/output-bucket-name")
    from botocore.stub import Stubber

    cloudformation = aws.client("cloudformation")  # moto's CloudFormation needs extras: a Stubber instead
    stubber = Stubber(cloudformation)
    stack = {
        "StackName": "bedrock-estate-dev-foundation",
        "CreationTime": "2026-11-01T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
    }
    stack["Outputs"] = [{"OutputKey": "OutputBucketName", "OutputValue": BUCKET}]
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "bedrock-estate-dev-foundation"})
    _files(aws, _job(aws, _names()))

    class Session:
        def client(self, name, **kwargs):
            return cloudformation if name == "cloudformation" else aws.client(name, **kwargs)

    with stubber:
        assert metrics.main(_args(tmp_path), session=Session()) == 0
    assert "| points | 8 | 2 |" in capsys.readouterr().out


def test_no_bucket_is_a_clear_message(aws, tmp_path, capsys):
    from botocore.stub import Stubber

    aws.client("ssm").delete_parameter(Name="/bedrock-estate/dev/foundation/output-bucket-name")
    cloudformation = aws.client("cloudformation")
    stubber = Stubber(cloudformation)
    stubber.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id bedrock-estate-dev-foundation does not exist"
    )

    class Session:
        def client(self, name, **kwargs):
            return cloudformation if name == "cloudformation" else aws.client(name, **kwargs)

    with stubber:
        assert metrics.main(_args(tmp_path), session=Session()) == 1
    err = capsys.readouterr().err
    assert "cannot find the output bucket of stage dev" in err and "Is the foundation deployed" in err
    assert "Traceback" not in err


def test_no_files_is_a_clear_message(aws, tmp_path, capsys):
    _job(aws, _names())
    assert metrics.main(_args(tmp_path), session=aws) == 1
    err = capsys.readouterr().err
    assert (
        f"note: summarizer: no metrics files under s3://{BUCKET}/jobs/summarizer/; Bedrock jobs: {_names()} (InProgress)"
        in err
    )
    assert "no training metrics found for stage dev" in err


def test_no_credentials_is_a_clear_message(tmp_path, monkeypatch, capsys):
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["metrics", "--stage", "dev", "--spec", str(DEFAULT_FIXTURE), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no AWS credentials: sign in to stage dev's account" in err and "Traceback" not in err


def test_unknown_stage_and_job_are_named(tmp_path, capsys):
    assert main(["metrics", "--stage", "qa", "--spec", str(DEFAULT_FIXTURE)]) == 1
    assert "no stage 'qa'" in capsys.readouterr().err
    assert main(["metrics", "--stage", "dev", "--job", "nope", "--spec", str(DEFAULT_FIXTURE)]) == 1
    assert "no job 'nope' in stage dev (jobs: summarizer)" in capsys.readouterr().err


def test_the_spec_loads_for_these_tests():
    assert "summarizer" in load_spec(DEFAULT_FIXTURE).stages["dev"].jobs
