"""Shared fixtures. The default estate (a fixture, tests/fixtures/estates/default.yaml) is synthesized
once per test session and shared."""

from __future__ import annotations

import gc
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from . import session
from .installed_wheel import MODULES as INSTALLED_WHEEL_MODULES
from .installed_wheel import fresh_python, user_app, wheel  # noqa: F401 (session fixtures)
from .synthesis import (  # noqa: F401 (shared with tests)
    ROOT,
    SynthesizedEstate,
    SynthesizedStack,
    cdk_context,
    read_estate,
    synthesize,
    synthesize_once,
)

# Whatever the session writes to the temp folder goes into a folder of its own, removed at the end:
# what apps made without an outdir synthesize (about 1.3 MB each; CDK_OUTDIR, read by the CDK's Node
# process when it starts), the Lambda assets the constructs stage beside it (one folder per content,
# reused by later syntheses: constructs_lib.machinery.resource_provider, customization.rft_grader),
# jsii's own folders, and those of every process a test starts (TMPDIR). pytest's tmp_path folders
# stay where pytest keeps them (PYTEST_DEBUG_TEMPROOT: the system temp folder), so a failed test's
# files are kept as tmp_path_retention_policy says. Under pytest-xdist each worker makes its own
# folder inside the controller's, which removes it last.
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", tempfile.gettempdir())
_SESSION_TMP = tempfile.mkdtemp(prefix="estate-tests-")
tempfile.tempdir = _SESSION_TMP
os.environ["TMPDIR"] = _SESSION_TMP
os.environ["CDK_OUTDIR"] = tempfile.mkdtemp(prefix="cdk-out-")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_SESSION_TMP, ignore_errors=True)


def _one_botocore_loader() -> None:
    """Every botocore session a test process opens reads the service models (JSON: Bedrock's,
    S3's, the endpoints) through one loader per data path, as the clients of one session do: a new
    session's loader reads them from disk again (a client in a new session costs about 70 ms, in
    an open one about 25 ms, and the tests and the tools they run open some 140 sessions). The
    models are botocore's own files, which nothing changes while the tests run."""
    import botocore.session

    made = botocore.session.create_loader
    loaders: dict[str | None, object] = {}

    def create_loader(search_path_string: str | None = None):
        if search_path_string not in loaders:
            loaders[search_path_string] = made(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = create_loader


_one_botocore_loader()


@pytest.fixture(scope="session", autouse=True)
def _shared_folder(tmp_path_factory) -> None:
    """Where this session's workers share what one of them made (tests/session.py). Autouse: set
    before any other fixture of the session runs."""
    session.FOLDER = session.shared_folder(tmp_path_factory.getbasetemp())


# Started first, longest first, so that no long test starts while the other worker runs out of work
# (CPU seconds measured on 2026-12-07). Modules move whole, so module-scoped fixtures stay together.
RUN_FIRST = (
    "tests/estate/test_new_user.py",  # two syntheses of a three-stage fork, one by the CDK CLI; cfn-lint (~45 s)
    *INSTALLED_WHEEL_MODULES,  # the wheel, its virtualenv, one user's app synthesized in it (~22 s)
    "tests/benchmarks/test_same_template_floor.py",  # the default estate and its floor (~15 s)
    "tests/estate/test_user_estate.py",  # the user's estate and its cfn-lint (~13 s)
    "tests/gates/test_cfn_lint.py",  # cfn-lint of the default and variant estates (~7 s)
    "tests/constructs/test_resource_provider.py",
    "tests/stacks/test_pipeline.py",
    "tests/spec/test_spec_fuzz.py",
)


def pytest_collection_finish(session):
    """Every test module is imported now, with everything they import (botocore, the CDK's Python
    side, cfn-lint, moto): objects that live as long as the process. Frozen out of the cyclic
    garbage collector's reach (``gc.freeze``), a collection no longer walks them: each full
    collection (``bench``'s real-time runs make one before their clock starts) costs about 170 ms
    on them, and the load and gate tests make about a hundred."""
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(session, config, items):
    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return RUN_FIRST.index(path) if path in RUN_FIRST else len(RUN_FIRST)

    items.sort(key=rank)  # stable: every other test keeps its collection order


# Modules whose tests share what one process makes once a session run on one worker together.
TOGETHER = {module: "installed-wheel" for module in INSTALLED_WHEEL_MODULES}


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's default distribution (--dist load: each test to the next free worker, in
    collection order), except that the modules of TOGETHER go to one worker as one unit.
    (--dist loadgroup with xdist_group marks would do it, but with pytest 9.2 it silently stops
    grouping: pytest-xdist issue 1386.)"""
    if config.getvalue("dist") != "load":
        return None  # another --dist asked for by hand
    from xdist.scheduler import LoadScopeScheduling

    class TogetherScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return TOGETHER.get(nodeid.split("::")[0], nodeid)

    config.option.loadscopereorder = False  # keep collection order (RUN_FIRST), not the largest unit first
    return TogetherScheduling(config, log)


# The project's own tests read spec fixtures from here, never the repository's estate.yaml: that
# file is the user's, and the gates in tests/estate/ test it. Dataset paths in a fixture are
# relative to the fixture file, as in any spec.
FIXTURES = ROOT / "tests" / "fixtures" / "estates"
DEFAULT_FIXTURE = FIXTURES / "default.yaml"
EXAMPLES = ROOT / "examples"
SAMPLE_DATASETS = ROOT / "tests" / "fixtures" / "datasets"


def load_example(name: str, text: str | None = None):
    """An example spec under examples/ (or ``text``, a variant of it), its sample datasets read from
    the tests' own copies: the samples in datasets/ are yours to remove once the estate is yours."""
    from constructs_lib.spec import parse_spec

    text = (text if text is not None else (EXAMPLES / name).read_text()).replace(
        "path: ../datasets/", f"path: {SAMPLE_DATASETS}/"
    )
    return parse_spec(text, source=name, base_dir=EXAMPLES)


@pytest.fixture(scope="session")
def default_spec():
    from constructs_lib.spec import load_spec

    return load_spec(DEFAULT_FIXTURE)


@pytest.fixture(scope="session")
def default_estate(default_spec) -> SynthesizedEstate:
    return synthesize_once("default", default_spec, base_dir=FIXTURES)


@pytest.fixture(scope="session")
def foundation_templates(default_estate):
    """{stage name: Template} for every stage's foundation stack."""
    from aws_cdk.assertions import Template

    return {
        s.stage: Template.from_json(s.template) for s in default_estate.stacks if s.stack_id.endswith("/Foundation")
    }


PROMOTION_DIR = ROOT / "tests" / "fixtures" / "promotion"


@pytest.fixture(scope="session")
def promotion_spec():
    """The estate shape before issue 11 on a model Bedrock can still share (see the file's comment)."""
    from constructs_lib.spec import load_spec

    return load_spec(PROMOTION_DIR / "estate.yaml")


@pytest.fixture(scope="session")
def promotion_estate(promotion_spec) -> SynthesizedEstate:
    """Promotion and provisioned throughput, which the default estate no longer uses."""
    return synthesize_once("promotion", promotion_spec, base_dir=PROMOTION_DIR)


IMPORT_DIR = ROOT / "tests" / "fixtures" / "imports"


@pytest.fixture(scope="session")
def import_estate() -> SynthesizedEstate:
    """Models imported with Custom Model Import (tests/fixtures/imports/estate.yaml)."""
    from constructs_lib.spec import load_spec

    return synthesize_once("imports", load_spec(IMPORT_DIR / "estate.yaml"), base_dir=IMPORT_DIR)


ADOPTED_PROMOTION_EXAMPLE = "adopted-promotion.yaml"


@pytest.fixture(scope="session")
def adopted_promotion_estate(tmp_path_factory) -> SynthesizedEstate:
    """examples/adopted-promotion.yaml: dev adopts a model fine-tuned in its console and prod
    promotes it (RAM share and copy by the adopted ARN) and serves the copy on provisioned throughput."""
    return synthesize(
        load_example(ADOPTED_PROMOTION_EXAMPLE), tmp_path_factory.mktemp("adopted-promotion.out"), base_dir=EXAMPLES
    )


VARIANT_SPEC = """\
name: variant-estate
removal: destroy
invocationLogging:
  cloudWatch: false
  adoptExisting: true
  adoptedDeliveryRoleArn: arn:aws:iam::333333333333:role/team-bedrock-logs
  dataDelivery: {text: true, image: true}
stages:
  sandbox:
    account: "333333333333"
    region: eu-west-1
"""


@pytest.fixture(scope="session")
def variant_estate() -> SynthesizedEstate:
    """A second estate exercising the non-default choices: destroy, S3-only logging, adoption (of a
    team's configuration whose CloudWatch delivery role it names, to give it back)."""
    from constructs_lib.spec import parse_spec

    return synthesize_once("variant", parse_spec(VARIANT_SPEC, source="variant.yaml"))


PERMISSIONS_SPEC = """\
name: perm-estate
datasets:
  shared-train: {s3Uri: "s3://shared-datasets/nova/train.jsonl", kmsKeyArn: "arn:aws:kms:us-east-1:444444444444:key/abcd-1234"}
  prompts: {path: prompts.jsonl}
  arithmetic: {path: arithmetic.jsonl}
stages:
  lab:
    account: "444444444444"
    region: us-east-1
    jobs:
      nova-tuned:
        type: FINE_TUNING
        baseModel: amazon.nova-micro-v1:0:128k
        trainingData: {dataset: shared-train}
        hyperparameters: {epochCount: 3, learningRate: 0.00002}
        vpc: {subnetIds: [subnet-0a1b2c3d], securityGroupIds: [sg-0a1b2c3d]}
        customModelKmsKeyArn: "arn:aws:kms:us-east-1:444444444444:key/nova-tuned-model"
        removal: destroy
        tags: {cost-center: "42"}
      profile-distilled:
        type: DISTILLATION
        baseModel: amazon.nova-lite-v1:0:300k
        teacher: {model: us.amazon.nova-pro-v1:0, maxResponseLength: 2000}
        trainingData: {dataset: prompts}
      arith-rft:
        type: REINFORCEMENT_FINE_TUNING
        baseModel: amazon.nova-2-lite-v1:0:256k
        trainingData: {dataset: arithmetic}
        rftConfig:
          grader: {handler: {file: graders/exact_match.py, timeoutSeconds: 60}}
          hyperParameters: {epochCount: 1, batchSize: 16, reasoningEffort: low}
      team-graded:
        type: REINFORCEMENT_FINE_TUNING
        baseModel: amazon.nova-2-lite-v1:0:256k
        trainingData: {dataset: arithmetic}
        rftConfig:
          grader: {lambdaArn: "arn:aws:lambda:us-east-1:444444444444:function:team-grader:3"}
    imports:
      support-llama:
        weights: {s3Uri: "s3://acme-model-weights/support-llama/v3/"}
        removal: destroy
        tags: {cost-center: "42"}
    sagemakerNova:
      support-nova:
        baseModel: amazon.nova-lite-v1:0:300k
        source: {modelPackageArn: "arn:aws:sagemaker:us-east-1:444444444444:model-package/support-nova/3"}
        removal: destroy
        tags: {cost-center: "42"}
      escrow-nova:
        baseModel: amazon.nova-micro-v1:0:128k
        source:
          s3Uri: "s3://customer-escrow-444444444444-smtj-a1b2c3/support-nova/step_1000/"
          roleArn: "arn:aws:iam::444444444444:role/nova-artifacts-reader"
    openWeightFineTuning:
      math-gpt-oss:
        baseModel: openai.gpt-oss-20b
        trainingData: {s3Uri: "s3://acme-rft-data/math/v1/train.jsonl"}
        graderFunctionArn: "arn:aws:lambda:us-east-1:444444444444:function:math-grader"
        hyperparameters: {nEpochs: 1, batchSize: 4}
      arith-qwen:
        baseModel: qwen.qwen3-32b
        trainingData: {dataset: arithmetic}
        graderHandler: {file: graders/exact_match.py}
    serving:
      nova-tuned:
        model: {job: nova-tuned}
        onDemand: {description: the VPC-trained Nova Micro}
        tags: {cost-center: "42"}
      support-nova:
        model: {sagemakerNova: support-nova}
        onDemand: {}
        tags: {cost-center: "42"}
      escrow-nova:
        model: {sagemakerNova: escrow-nova}
        provisioned: {modelUnits: 1}
        tags: {cost-center: "42"}
  annex:
    account: "555555555555"
    region: us-east-1
    invocationLogging: {enabled: false}  # the account's logging is another stage's to simulate
    jobs:
      adopted-ft:
        adopt: "arn:aws:bedrock:us-east-1:555555555555:custom-model/amazon.nova-micro-v1:0:128k/0a1b2c3d4e5f"
        type: FINE_TUNING
        baseModel: amazon.nova-micro-v1:0:128k
        tags: {cost-center: "42"}
      adopted-distilled:
        adopt: "arn:aws:bedrock:us-east-1:555555555555:custom-model/amazon.nova-lite-v1:0:300k/9f8e7d6c5b4a"
        type: DISTILLATION
        baseModel: amazon.nova-lite-v1:0:300k
        removal: destroy
    serving:
      adopted-pt:
        adopt: "arn:aws:bedrock:us-east-1:555555555555:provisioned-model/a1b2c3d4e5f6"
        model: {arn: "arn:aws:bedrock:us-east-1:555555555555:custom-model/amazon.nova-micro-v1:0:128k/0a1b2c3d4e5f"}
        provisioned: {modelUnits: 1, commitment: none}
        tags: {cost-center: "42"}
      adopted-od:
        adopt: "arn:aws:bedrock:us-east-1:555555555555:custom-model-deployment/f6e5d4c3b2a1"
        model: {arn: "arn:aws:bedrock:us-east-1:555555555555:custom-model/amazon.nova-micro-v1:0:128k/0a1b2c3d4e5f"}
        onDemand: {}
        tags: {cost-center: "42"}
"""


@pytest.fixture(scope="session")
def permissions_estate() -> SynthesizedEstate:
    """The estate of the non-default job and serving choices, for the permission tests and the
    customization stack's invariants: S3 datasets with their own key, a VPC job, a teacher inference
    profile, reinforcement fine-tuning with a grader the estate deploys and with an existing grader
    (a version ARN), on-demand serving with tags of its own, a model imported beside the jobs, two
    open-weight reinforcement fine-tuning jobs (one on a file in S3 graded by an existing function,
    one on the repository dataset the Nova RFT jobs read, uploaded once for all three, graded by the
    Nova job's grader file deployed again as a function of its own); and a stage (annex) that only adopts two custom
    models (one retained, one deleted with its entry), a throughput and a deployment made outside
    the estate, so its job and serving grants are adoption's alone (the promotion fixture covers
    sharing, copies and provisioned throughput). The lab serves its two Nova models trained in
    SageMaker AI by name: one on demand, one with provisioned throughput."""
    from constructs_lib.spec import parse_spec

    def spec(base: Path):
        return parse_spec(PERMISSIONS_SPEC, source="permissions.yaml", base_dir=base)

    def make(base: Path) -> SynthesizedEstate:  # its datasets and grader, then its cloud assembly beside them
        prompt = {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [{"role": "user", "content": [{"text": "Summarize: the disk is full."}]}],
        }
        (base / "prompts.jsonl").write_text("\n".join(json.dumps(prompt) for _ in range(5)) + "\n")
        shutil.copy(FIXTURES.parent / "datasets" / "arithmetic" / "rft" / "train.jsonl", base / "arithmetic.jsonl")
        (base / "graders").mkdir()
        shutil.copy(ROOT / "examples" / "graders" / "exact_match.py", base / "graders" / "exact_match.py")
        return synthesize(spec(base), base / "cdk.out", base_dir=base)

    return session.once("permissions", PERMISSIONS_SPEC, make, lambda base: read_estate(spec(base), base / "cdk.out"))
