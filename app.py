#!/usr/bin/env python3
"""CDK entry point: load the estate spec (cdk.json context ``estate``, override with -c) and build it."""

import sys
from pathlib import Path

import aws_cdk as cdk

from constructs_lib.plan import record_spec
from constructs_lib.spec import SpecError, load_spec
from stacks.estate import build_estate

app = cdk.App()
spec_path = Path(app.node.try_get_context("estate") or "estate.yaml")
try:
    spec = load_spec(spec_path)
except SpecError as error:
    # A spec mistake is the user's to fix: the message names each path; a traceback would not help.
    print(error, file=sys.stderr)
    sys.exit(1)
build_estate(app, spec, base_dir=spec_path.parent)
assembly = app.synth()
# Which spec these templates come from, so `bedrock-estate plan` can tell a stale cdk.out.
record_spec(assembly.directory, spec_path, spec)
