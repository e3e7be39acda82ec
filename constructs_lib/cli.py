"""``bedrock-estate``: command-line tools around the estate spec.

    bedrock-estate check [SPEC]        validate a spec; exit 1 with path-named errors
    bedrock-estate schema              print the spec's JSON Schema
    bedrock-estate plan [--assembly D] print the plan of a synthesized estate
"""

from __future__ import annotations

import argparse
import sys

from .spec import SpecError, load_spec
from .spec.schema import json_schema_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bedrock-estate", description="Tools for a bedrock-estate spec.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate an estate spec")
    check.add_argument("spec", nargs="?", default="estate.yaml")
    commands.add_parser("schema", help="print the estate spec's JSON Schema")
    plan = commands.add_parser("plan", help="print the plan of a synthesized estate")
    plan.add_argument("--assembly", default="cdk.out")
    plan.add_argument("--spec", default=None)
    args = parser.parse_args(argv)

    if args.command == "schema":
        print(json_schema_text(), end="")
        return 0
    if args.command == "plan":
        from . import plan as plan_module

        forwarded = ["--assembly", args.assembly] + (["--spec", args.spec] if args.spec else [])
        return plan_module.main(forwarded)
    try:
        spec = load_spec(args.spec)
    except SpecError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{args.spec}: ok ({len(spec.stages)} stages: {', '.join(spec.stages)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
