"""The spec, catalog, naming and tools import without the CDK: they start fast, and a Lambda or a
CI job that only validates a spec needs no CDK at all."""

from __future__ import annotations

import subprocess
import sys

from .synthesis import ROOT

BLOCK_CDK = """
import importlib.abc, sys

class NoCdk(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("aws_cdk", "constructs", "cdk_nag", "jsii"):
            raise ImportError(f"{name} is not available in this test")
        return None

sys.meta_path.insert(0, NoCdk())
sys.path[:0] = [".", "lambdas"]
import importlib, pkgutil
import constructs_lib, constructs_lib.spec, constructs_lib.tools
# Every module of the spec and the tools, and the job request the spec resolves a stage's jobs into.
modules = [m.name for package in (constructs_lib.spec, constructs_lib.tools) for m in pkgutil.iter_modules(package.__path__, package.__name__ + ".")]
assert {"constructs_lib.tools.cli", "constructs_lib.tools.plan", "constructs_lib.tools.verify", "constructs_lib.tools.gate",
        "constructs_lib.tools.bench", "constructs_lib.tools.catalog_command", "constructs_lib.spec.loader"} <= set(modules), modules
for name in [*modules, "constructs_lib.spec.job_request"]:
    importlib.import_module(name)
import estate_runtime.catalog, estate_runtime.naming, estate_runtime.permissions, estate_runtime.entry
spec = constructs_lib.spec.load_spec("tests/fixtures/estates/default.yaml")
assert [s.names.qualifier for s in spec.stage_settings()] == ["bedrock-estate-dev", "bedrock-estate-prod"]
from pathlib import Path
names = {s.name: s.job_names for s in spec.stage_settings(Path("tests/fixtures/estates"))}
assert sorted(names) == ["dev", "prod"] and names["dev"]["summarizer"].job_name.startswith("bedrock-estate-dev-summarizer-"), names
assert constructs_lib.tools.cli.main(["check", "tests/fixtures/estates/default.yaml"]) == 0
assert constructs_lib.tools.cli.main(["catalog"]) == 0
assert len(estate_runtime.catalog.load_catalog().models) > 0
# A construct, by contrast, needs the CDK: the lazy exports do not hide that.
try:
    constructs_lib.SecureBucket
except ImportError:
    pass
else:
    raise AssertionError("SecureBucket imported without the CDK")
print("imported without the CDK")
"""


def test_spec_catalog_and_tools_import_with_the_cdk_unavailable():
    result = subprocess.run([sys.executable, "-c", BLOCK_CDK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "imported without the CDK" in result.stdout


BLOCK_BOTO = (
    BLOCK_CDK.split("sys.path[:0]")[0].replace(
        '("aws_cdk", "constructs", "cdk_nag", "jsii")',
        '("aws_cdk", "constructs", "cdk_nag", "jsii", "boto3", "botocore")',
    )
    + """
sys.path[:0] = [".", "lambdas"]
from estate_runtime import kinds, permissions
from estate_runtime.kinds import model_copy
from estate_runtime.kinds.provisioned_throughput import KIND
assert model_copy.KIND.type_name in kinds.BY_TYPE and permissions.ONLY_WHEN
props = KIND.parse({"Name": "pt", "ClientRequestToken": "pt", "Model": {"ModelArn": "arn"}, "ModelUnits": "2"})
assert props.model_units == 2 and props.to_cfn()["ModelUnits"] == 2
print("kinds without the CDK and boto3")
"""
)


def test_kinds_import_with_neither_the_cdk_nor_boto3():
    """The definition of every custom-resource kind is plain data: the constructs read it at
    synthesis, the handlers in the Lambda, and neither drags the other's dependencies in."""
    result = subprocess.run([sys.executable, "-c", BLOCK_BOTO], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "kinds without the CDK and boto3" in result.stdout
