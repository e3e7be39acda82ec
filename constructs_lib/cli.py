"""``bedrock-estate``: command-line tools around the estate spec and its datasets.

    bedrock-estate check [SPEC]                         validate a spec (exit 1 with path-named errors)
    bedrock-estate validate FILE --model ID [--type T]  validate a JSONL dataset for a base model
    bedrock-estate convert FILE --to FORMAT [-o OUT]    prompt/completion to messages or bedrock-conversation-2024
    bedrock-estate schema                               print the spec's JSON Schema
    bedrock-estate plan [--assembly DIR]                print the plan of a synthesized estate
    bedrock-estate catalog [--check]                    list the model catalog; --check compares it with Bedrock

Exit codes: 0 ok, 1 the input has problems (each named by line), 2 wrong usage.
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
    catalog = commands.add_parser("catalog", help="list the model catalog (models, types, regions, lifecycle)")
    catalog.add_argument("--check", action="store_true", help="compare with ListFoundationModels in each region (needs AWS credentials)")
    plan = commands.add_parser("plan", help="print the plan of a synthesized estate")
    plan.add_argument("--assembly", default="cdk.out")
    plan.add_argument("--spec", default=None)
    validate = commands.add_parser("validate", help="validate a JSONL dataset against a base model's rules")
    validate.add_argument("file")
    validate.add_argument("--model", required=True, help="base model id, e.g. anthropic.claude-3-haiku-20240307-v1:0:200k")
    validate.add_argument("--type", default="FINE_TUNING", choices=["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"])
    validate.add_argument("--purpose", default="training", choices=["training", "validation"])
    convert = commands.add_parser("convert", help="convert prompt/completion JSONL to another format")
    convert.add_argument("file")
    convert.add_argument("--to", required=True, choices=["messages", "bedrock-conversation-2024"])
    convert.add_argument("--system", default=None, help="system prompt to add to every record")
    convert.add_argument("--prompts-only", action="store_true", help="drop the answers (distillation prompts)")
    convert.add_argument("-o", "--output", default="-", help="output file (default: standard output)")
    args = parser.parse_args(argv)

    if args.command == "validate":
        return _validate(args)
    if args.command == "convert":
        return _convert(args)

    if args.command == "catalog":
        from . import catalog_command

        return catalog_command.main(args.check)
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



def _validate(args: argparse.Namespace) -> int:
    from estate_runtime import datasets
    from estate_runtime.catalog import load_catalog

    catalog = load_catalog()
    rules = catalog.dataset_rules(args.model, args.type, args.purpose)
    if rules is None:
        known = ", ".join(sorted(m for m, model in catalog.models.items() if args.type in model.customizations))
        print(f"{args.model}: no {args.type} rules in the model catalog (reviewed {catalog.reviewed}); known: {known}", file=sys.stderr)
        return 1
    try:
        report = datasets.validate(datasets.read_lines(args.file), rules)
    except FileNotFoundError:
        print(f"{args.file}: file not found", file=sys.stderr)
        return 1
    except UnicodeDecodeError as err:
        print(f"{args.file}: not UTF-8 text ({err.reason} at byte {err.start})", file=sys.stderr)
        return 1
    if not report.ok:
        print(report.render(args.file), file=sys.stderr)
        return 1
    print(f"{args.file}: ok, {report.records} records ({rules.format}), largest about {report.max_tokens} tokens")
    return 0


def _convert(args: argparse.Namespace) -> int:
    import json

    from estate_runtime import datasets

    out_lines = []
    problems = []
    try:
        lines = list(datasets.read_lines(args.file))
    except FileNotFoundError:
        print(f"{args.file}: file not found", file=sys.stderr)
        return 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(f"{args.file}:{number}: not valid JSON: {err.msg}")
            continue
        usable = isinstance(record, dict) and (
            isinstance(record.get("prompt"), str) and isinstance(record.get("completion"), str)
            or (args.to == "bedrock-conversation-2024" and isinstance(record.get("messages"), list))
        )
        if not usable:
            problems.append(f"{args.file}:{number}: expected {{\"prompt\": str, \"completion\": str}}")
            continue
        if args.to == "messages":
            converted = datasets.to_messages(record, system=args.system)
            if args.prompts_only:
                problems.append(f"{args.file}:{number}: --prompts-only applies to bedrock-conversation-2024 only")
                continue
        else:
            converted = datasets.to_conversation(record, system=args.system, include_answer=not args.prompts_only)
        out_lines.append(json.dumps(converted, ensure_ascii=False))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    text = "\n".join(out_lines) + ("\n" if out_lines else "")
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"{args.output}: {len(out_lines)} records ({args.to})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
