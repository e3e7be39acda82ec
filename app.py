#!/usr/bin/env python3
"""CDK entry point: load the estate spec (cdk.json context ``estate``, override with -c) and build it.

Your own constructs go in :func:`extend`: it runs once for every stage (the pipeline deploys
the same stages as `cdk deploy 'dev/*'`), and the gates on your estate (``make test``,
``make snapshots``) synthesize with it too, so its resources are in your snapshots and reviewed.
"""

import os
import sys
from pathlib import Path

# jsii (the bridge to the CDK's JavaScript) prints a Node 20 end-of-life banner, as Python bytes,
# on every run; Node 20 still works. Set before jsii starts Node, so `npx cdk synth` run outside
# make is as quiet as `make synth` (which exports the same variable). Node 22 or 24 is recommended.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402 - after the environment jsii reads

from constructs_lib.spec import SpecError, load_spec  # noqa: E402
from constructs_lib.spec.assembly_record import record_spec  # noqa: E402
from constructs_lib.spec.loader import CDK_MISSING_HINT  # noqa: E402
from stacks.estate import BUILDS, build_estate  # noqa: E402
from stacks.estate_stage import EstateStage  # noqa: E402


def extend(stage: EstateStage) -> None:
    """Add your own constructs to ``stage`` (nothing by default). For example, let an application
    role of the stage's account invoke every model the stage serves::

        from aws_cdk import aws_iam as iam

        if stage.serving is not None:
            role = iam.Role.from_role_name(stage.serving, "SupportBot", "support-bot", mutable=True)
            for model in stage.serving.models.values():
                model.grant_invoke_to_role(role)  # a managed policy: every nag pack passes

    ``stage.settings`` is the resolved spec stage (name, account, region, jobs, serving);
    ``stage.foundation``, ``stage.customization`` and ``stage.serving`` are its stacks.
    """


def main() -> None:
    app = cdk.App()
    spec_path = Path(app.node.try_get_context("estate") or "estate.yaml")
    try:
        spec = load_spec(spec_path, missing_hint=CDK_MISSING_HINT)
    except SpecError as error:
        # A spec mistake is the user's to fix: the message names each path; a traceback would not help.
        print(error, file=sys.stderr)
        sys.exit(1)
    build = app.node.try_get_context("estate:build") or "all"
    if build not in BUILDS:
        print(f"-c estate:build={build}: give one of {', '.join(BUILDS)} (default all)", file=sys.stderr)
        sys.exit(1)
    build_estate(app, spec, base_dir=spec_path.parent, build=build, extend=extend)
    assembly = app.synth()
    # Which spec these templates come from, so `bedrock-estate plan` can tell a stale cdk.out.
    record_spec(assembly.directory, spec_path, spec)


if __name__ == "__main__":
    main()
