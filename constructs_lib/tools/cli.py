"""``bedrock-estate``: command-line tools around the estate spec and its datasets.

    bedrock-estate check [SPEC]                         validate a spec (exit 1 with path-named errors)
    bedrock-estate stages [SPEC] [--json]               the spec's stages, accounts and regions (a CI matrix)
    bedrock-estate validate FILE --model ID [--type T]  validate a JSONL dataset for a base model
    bedrock-estate convert FILE --to FORMAT [-o OUT]    prompt/completion to messages or bedrock-conversation-2024
    bedrock-estate schema                               print the spec's JSON Schema
    bedrock-estate plan [--assembly DIR] [--spec SPEC] [--prices spec|aws]
                                                        print the plan of a synthesized estate
    bedrock-estate metrics --stage S [--job J] [--spec SPEC] [--out DIR]
                                                        training / validation loss of a stage's jobs
    bedrock-estate bench TARGET... [--stage S] [--concurrency N] [--repeats R] [--prompts FILE]
                                                        latency and throughput of served models
    bedrock-estate gate --stage S [--served NAME] [--spec SPEC] [--out DIR]
                                                        run a stage's evaluation gate (exit 1 when it fails)
    bedrock-estate catalog [--check [--profile P]]      list the model catalog; --check compares it with Bedrock
    bedrock-estate drift --stage S [--spec SPEC] [--role-arn ARN]
                                                        compare a stage's deployed stacks with Bedrock (exit 1 on drift)
    bedrock-estate adopt --stage S [--spec SPEC] [--role-arn ARN]
                                                        Bedrock resources no estate owns, with the spec lines that adopt them
    bedrock-estate --version                            print the installed version

Every argument has --help text. Exit codes: 0 ok, 1 the input has problems (each named by
line), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from estate_runtime.catalog import CUSTOMIZATION_TYPES

from ..spec import SpecError, load_spec
from ..spec.schema import json_schema_text
from ..spec.words import counted


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bedrock-estate")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bedrock-estate",
        description="Tools for a bedrock-estate spec and its datasets.",
        epilog="Exit codes: 0 ok, 1 the input has problems (each named by file and line), 2 wrong usage.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version and exit"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")
    check = commands.add_parser(
        "check", help="validate an estate spec", description="Validate an estate spec: every problem, by file and line."
    )
    check.add_argument("spec", nargs="?", default="estate.yaml", help="the spec file (default: estate.yaml)")
    stages = commands.add_parser(
        "stages",
        help="list the spec's stages with their accounts and regions",
        description="List the spec's stages with their accounts and regions (the pull-request workflow's matrix).",
    )
    stages.add_argument("spec", nargs="?", default="estate.yaml", help="the estate spec (default: estate.yaml)")
    stages.add_argument(
        "--json", action="store_true", help='one line of JSON, [{"stage", "account", "region"}, ...], for a CI matrix'
    )
    commands.add_parser(
        "schema",
        help="print the estate spec's JSON Schema",
        description="Print the estate spec's JSON Schema (what `make schema` writes to estate.schema.json).",
    )
    plan = commands.add_parser(
        "plan",
        help="print the plan of a synthesized estate",
        description="Print the plan of a synthesized estate (run `make synth` first).",
    )
    from .plan import add_arguments as add_plan_arguments

    add_plan_arguments(plan)
    catalog = commands.add_parser(
        "catalog",
        help="list the model catalog (models, types, regions, lifecycle)",
        description="List the model catalog: models, customization types, regions, lifecycle, sources and review date.",
    )
    catalog.add_argument(
        "--check",
        action="store_true",
        help="compare with Bedrock in each region the catalog names: ListFoundationModels, and GetFoundationModel for a "
        "catalog model the list leaves out (needs AWS credentials allowed both)",
    )
    catalog.add_argument(
        "--profile",
        default=None,
        help="with --check: AWS profile to call Bedrock with (default: the environment's credentials)",
    )
    validate = commands.add_parser(
        "validate",
        help="validate a JSONL dataset against a base model's rules",
        description="Validate a JSONL dataset against a base model's rules from the model catalog.",
    )
    validate.add_argument("file", help="the JSONL dataset")
    validate.add_argument("--model", required=True, help="base model id, e.g. amazon.nova-lite-v1:0:300k")
    validate.add_argument(
        "--type",
        default="FINE_TUNING",
        choices=list(CUSTOMIZATION_TYPES),
        help="customization type (default: FINE_TUNING)",
    )
    validate.add_argument(
        "--purpose",
        default="training",
        choices=["training", "validation"],
        help="training or validation data (default: training)",
    )
    convert = commands.add_parser(
        "convert",
        help="convert prompt/completion JSONL to another format",
        description="Convert prompt/completion JSONL (or messages, to bedrock-conversation-2024) into another dataset format.",
    )
    convert.add_argument("file", help="the JSONL file to convert")
    convert.add_argument(
        "--to", required=True, choices=["messages", "bedrock-conversation-2024"], help="the format to write"
    )
    convert.add_argument("--system", default=None, help="system prompt to add to every record")
    convert.add_argument("--prompts-only", action="store_true", help="drop the answers (distillation prompts)")
    convert.add_argument("-o", "--output", default="-", help="output file (default: standard output)")
    metrics = commands.add_parser(
        "metrics",
        help="training and validation loss of a stage's jobs: tables and PNG charts",
        description="Read Bedrock's step-wise training and validation loss files of a stage's customization jobs from the "
        "stage's output bucket (credentials of the stage's account); print a table per job and write a PNG of its loss curves.",
    )
    metrics.add_argument("--stage", required=True, help="the stage whose jobs to read, e.g. dev")
    metrics.add_argument("--job", default=None, help="one job of the stage (default: every job of the stage)")
    metrics.add_argument("--spec", default="estate.yaml", help="the estate spec (default: estate.yaml)")
    metrics.add_argument("--out", default="metrics", help="folder for the PNG charts (default: metrics)")
    metrics.add_argument(
        "--profile", default=None, help="AWS profile of the stage's account (default: the environment's credentials)"
    )
    bench = commands.add_parser(
        "bench",
        help="latency and throughput of served models, base models and inference profiles",
        description="Stream the prompt set through each target with ConverseStream (an imported model that Converse "
        "does not serve, or an ARN given with format=: InvokeModelWithResponseStream): time to first token, end-to-end latency, "
        "output tokens per second, the latency mode actually served, throttles and errors; writes a report, raw CSV and JSON, "
        "and a PNG chart comparing the targets.",
    )
    bench.add_argument(
        "targets",
        nargs="+",
        metavar="TARGET",
        help="NAME_OR_ID[,latency=standard|optimized][,tier=priority|default|flex|reserved]"
        "[,format=BedrockCompletion|OpenAICompletion|OpenAIChatCompletion]: a serving entry or import of --stage, "
        "a base model id, an inference profile id, or a model ARN (format=: an imported model's ARN, streamed with "
        "InvokeModelWithResponseStream in that request format)",
    )
    bench.add_argument(
        "--stage",
        default=None,
        help="the stage whose serving entries and imports TARGET names (ARNs from its serving and customization "
        "stacks); also sets the region",
    )
    bench.add_argument("--spec", default="estate.yaml", help="the estate spec, with --stage (default: estate.yaml)")
    bench.add_argument(
        "--prompts",
        default=None,
        help='your own JSONL prompt set, one {"prompt", "id"?, "task"?, "maxTokens"?} a line (default: the shipped set)',
    )
    bench.add_argument("--concurrency", type=int, default=1, help="requests in flight at once (default: 1)")
    bench.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="times each prompt runs against each target, in shuffled order (default: 1)",
    )
    bench.add_argument("--seed", type=int, default=0, help="seed of the shuffled order (default: 0)")
    bench.add_argument(
        "--out", default="bench", help="folder for report.md, results.csv, results.json and chart.png (default: bench)"
    )
    bench.add_argument(
        "--prices",
        default=None,
        help='JSON of token prices: {"<model id or target>": {"inputPerMillion": USD, "outputPerMillion": USD}} (default: cost unknown)',
    )
    bench.add_argument(
        "--region",
        default=None,
        help="AWS region (default: the stage's, else AWS_DEFAULT_REGION or the profile's region)",
    )
    bench.add_argument("--profile", default=None, help="AWS profile (default: the environment's credentials)")
    from .bench import ENDPOINT_HELP

    bench.add_argument("--endpoint-url", default=None, metavar="URL", help=ENDPOINT_HELP)
    bench.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")
    gate = commands.add_parser(
        "gate",
        help="run a stage's evaluation gate (latency bounds, reference answers) against its served models",
        description="Run the gate the spec declares for a stage against the stage's served models: latency bounds measured as "
        "`bench` measures them and a reference-answer check. Writes report.md, results.json and chart.png; exit 1 when a check fails.",
    )
    from .gate import add_arguments as add_gate_arguments

    add_gate_arguments(gate)
    drift = commands.add_parser(
        "drift",
        help="compare what a stage's deployed stacks own with what Bedrock reports (exit 1 on drift)",
        description="Read the stage's deployed customization and serving stacks (ListStackResources, GetTemplate) and "
        "ask Bedrock for each job, imported model, model copy, provisioned throughput and deployment they own: does it "
        "exist, in which status, with the stage's owner tag, serving the model and model units the stack says. Each "
        "difference is listed with what to do. Read only; exit 1 when there is drift.",
    )
    from .drift import add_arguments as add_drift_arguments

    add_drift_arguments(drift)
    adopt = commands.add_parser(
        "adopt",
        help="list the custom models, jobs, throughputs and deployments no estate owns, with the spec lines that adopt them",
        description="Read the stage's account and Region (ListCustomModels, ListModelCustomizationJobs, "
        "ListProvisionedModelThroughputs, ListCustomModelDeployments, ListTagsForResource) for what carries no "
        "bedrock-estate owner tag, and print the spec lines that adopt it. Read only.",
    )
    from .adopt import add_arguments as add_adopt_arguments

    add_adopt_arguments(adopt)
    digest = commands.add_parser(
        "weights-digest",
        help="print the digest of an import's weights folder, to pin in imports.<name>.weights.digest",
        description="List the folder and read each file's checksum (ListObjectsV2, HeadObject) with your credentials, "
        "and print the digest the import's pre-flight computes at deploy: every file's path, size and full-object "
        "checksum. Pin it, and a later stage's import promoted from this one takes only the same files. Read only.",
    )
    from .weights_digest import add_arguments as add_digest_arguments

    add_digest_arguments(digest)
    for command in commands.choices.values():
        # A command's own mistakes are answered with its own usage (main), not the top level's.
        command.set_defaults(command_parser=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        args.command_parser.error(f"unrecognized arguments: {' '.join(extra)}")

    if args.command == "validate":
        return _validate(args)
    if args.command == "convert":
        return _convert(args)

    if args.command == "stages":
        return _stages(args)
    if args.command == "catalog":
        from . import catalog_command

        if args.profile is not None and not args.check:
            args.command_parser.error("--profile applies to --check only (the listing reads no AWS account)")
        return catalog_command.main(args.check, profile=args.profile)
    if args.command == "schema":
        print(json_schema_text(), end="")
        return 0
    if args.command == "metrics":
        from . import metrics as metrics_module

        return metrics_module.main(args)
    if args.command == "bench":
        from . import bench as bench_module

        return bench_module.main(args)
    if args.command == "gate":
        from . import gate as gate_module

        return gate_module.main(args)
    if args.command == "adopt":
        from . import adopt as adopt_module

        return adopt_module.main(args)
    if args.command == "weights-digest":
        from . import weights_digest

        return weights_digest.main(args)
    if args.command == "drift":
        from . import drift as drift_module

        return drift_module.main(args)
    if args.command == "plan":
        from . import plan as plan_module

        return plan_module.run(args)
    try:
        spec = load_spec(args.spec, missing_hint="give an existing spec: `bedrock-estate check PATH`")
    except SpecError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{args.spec}: ok ({counted(len(spec.stages), 'stage')}: {', '.join(spec.stages)})")
    return 0


def _stages(args: argparse.Namespace) -> int:
    """The stages in deployment order; the pull-request workflow builds its diff matrix from --json."""
    import json

    try:
        spec = load_spec(args.spec, missing_hint="give an existing spec: `bedrock-estate stages PATH`")
    except SpecError as error:
        print(error, file=sys.stderr)
        return 1
    from estate_runtime.naming import pull_request_diff_role_name

    from ..spec.regions import partition_of

    role = pull_request_diff_role_name(spec.name)
    rows = [
        {
            "stage": s.name,
            "account": s.account,
            "region": s.region,
            "diffRole": f"arn:{partition_of(s.region)}:iam::{s.account}:role/{role}",
        }
        for s in spec.stage_settings()
    ]
    if args.json:
        print(json.dumps(rows, separators=(",", ":")))
    else:
        for row in rows:
            print(f"{row['stage']}\t{row['account']}\t{row['region']}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from estate_runtime import datasets
    from estate_runtime.catalog import load_catalog

    catalog = load_catalog()
    rules = catalog.dataset_rules(args.model, args.type, args.purpose)
    if rules is None:
        from ..spec.suggest import closest

        known = sorted(m for m, model in catalog.models.items() if args.type in model.customizations)
        near = [m for m in known if args.model.lower() in m.lower()] or closest(args.model, known)
        hint = f"did you mean {' or '.join(near)}?" if near else f"known: {', '.join(known)}"
        print(
            f"{args.model}: no {args.type} rules in the model catalog (reviewed {catalog.reviewed}); {hint}",
            file=sys.stderr,
        )
        return 1
    model = catalog.model(args.model)
    if args.purpose == "validation" and model is not None and not model.validation_data:
        print(
            f"{args.model} takes no validation dataset (model catalog, reviewed {catalog.reviewed}); a job of it trains "
            "without one: validate the training data (--purpose training)",
            file=sys.stderr,
        )
        return 1
    lines = _read_lines(args.file)
    if lines is None:
        return 1
    report = datasets.validate(lines, rules)
    if not report.ok:
        print(report.render(args.file), file=sys.stderr)
        return 1
    print(f"{args.file}: ok, {report.records} records ({rules.format}), largest about {report.max_tokens} tokens")
    refused = _lifecycle_note(catalog, args.model, args.type)
    return 1 if refused else 0


def _lifecycle_note(catalog: Any, model_id: str, customization: str) -> bool:
    """Say on stderr when the model is past end of life (True: a job on it is refused) or Legacy in
    the regions where the catalog offers the customization: valid data for it is not enough."""
    from estate_runtime.catalog import TYPE_WORDS

    model = catalog.model(model_id)
    offer = model.customizations.get(customization) if model is not None else None
    if offer is None or not offer.regions:
        return False
    found = {region: catalog.lifecycle(model_id, region) for region in offer.regions}
    states = {region: state for region, (state, _) in ((r, f) for r, f in found.items() if f is not None)}
    if states and len(states) == len(offer.regions) and all(s.status == "EOL" for s in states.values()):
        dates = {s.eol_date for s in states.values()}
        regions = ", ".join(states)
        if dates == {None}:
            when = f"is no longer offered (no EOL date published) in {regions}"
        elif len(dates) == 1:
            when = f"reached end of life on {dates.pop()} in {regions}"
        else:
            when = "reached end of life in " + ", ".join(f"{r} ({s.eol_date or 'no date'})" for r, s in states.items())
        successor = next((f[1] for f in found.values() if f is not None and f[1] is not None), None)
        advice = f" Suggested successor: {successor.model}" if successor else ""
        if successor and catalog.dataset_rules(successor.model, customization, "training") is not None:
            advice += f"; validate the data for it with --model {successor.model}"
        print(
            f"{model_id} {when}, every region where the model catalog offers its {customization} "
            f"(catalog reviewed {catalog.reviewed}): a job on it is refused.{advice}",
            file=sys.stderr,
        )
        return True
    words = TYPE_WORDS.get(customization, customization)
    for region in states:
        problem = catalog.lifecycle_problem(model_id, region, f"a {words} job on it")
        if problem is not None and problem[0] == "warning":
            print(f"warning: {problem[1]}", file=sys.stderr)
            break
    return False


def _read_lines(path: str) -> list[bytes] | None:
    """The dataset's lines, or None after saying on stderr why the file cannot be read."""
    from estate_runtime import datasets

    try:
        return list(datasets.read_lines(path))
    except FileNotFoundError:
        print(f"{path}: file not found", file=sys.stderr)
    except OSError as err:
        print(f"{path}: cannot read the file: {err.strerror}", file=sys.stderr)
    return None


def _record_format(record: Any) -> str | None:
    """The dataset format a record convert cannot read is in, when it is one of the known ones."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("messages"), list):
        return "bedrock-conversation-2024" if "schemaVersion" in record else "messages"
    if "input" in record:
        return 'continued pre-training input ({"input"})'
    if "image-ref" in record:
        return 'image-caption ({"image-ref", "caption"})'
    return None


def _convert(args: argparse.Namespace) -> int:
    import json
    import os

    from estate_runtime import datasets

    out_lines = []
    problems: list[tuple[int, str]] = []
    records = 0
    other_formats: dict[str, list[int]] = {}  # a format convert does not read -> its lines
    lines = _read_lines(args.file)
    if lines is None:
        return 1
    for number, raw in enumerate(lines, start=1):
        line, encoding_problem = datasets.decode_line(raw, first=number == 1)
        if encoding_problem is not None:
            problems.append((number, encoding_problem))
        if line is None or not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append((number, f"not valid JSON: {err.msg}"))
            continue
        records += 1
        usable = isinstance(record, dict) and (
            isinstance(record.get("prompt"), str)
            and isinstance(record.get("completion"), str)
            or (args.to == "bedrock-conversation-2024" and isinstance(record.get("messages"), list))
        )
        if isinstance(record, dict) and "reference_answer" in record:
            problems.append(
                (
                    number,
                    "a reinforcement fine-tuning prompt (reference_answer): converting it would drop the reference answer "
                    "its grader scores against; a REINFORCEMENT_FINE_TUNING job takes these records as they are",
                )
            )
            continue
        if not usable:
            found = _record_format(record)
            if found is not None:
                other_formats.setdefault(found, []).append(number)  # said once for the file, below
            else:
                problems.append((number, 'expected {"prompt": str, "completion": str}'))
            continue
        if args.to == "messages":
            converted = datasets.to_messages(record, system=args.system)
            if args.prompts_only:
                problems.append((number, "--prompts-only applies to bedrock-conversation-2024 only"))
                continue
        else:
            converted = datasets.to_conversation(record, system=args.system, include_answer=not args.prompts_only)
        out_lines.append(json.dumps(converted, ensure_ascii=False))
    for found, numbers in other_formats.items():
        if found == args.to:
            message = f"{len(numbers)} of {records} records are {found} already; there is nothing to convert"
        else:
            message = (
                f"{len(numbers)} of {records} records are {found}, which convert does not turn into {args.to}; it converts "
                'prompt/completion records ({"prompt", "completion"}) to messages or bedrock-conversation-2024, '
                "and messages records to bedrock-conversation-2024"
            )
        problems.append((numbers[0], message))
    if problems:
        print("\n".join(f"{args.file}:{n}: {m}" for n, m in sorted(problems, key=lambda p: p[0])), file=sys.stderr)
        return 1
    if not out_lines:
        print(f"{args.file}: the file holds no records to convert", file=sys.stderr)
        return 1
    text = "\n".join(out_lines) + ("\n" if out_lines else "")
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except FileNotFoundError:
            folder = os.path.dirname(args.output) or "."
            print(
                f"{args.output}: cannot write: the folder {folder} does not exist; create it or choose another -o",
                file=sys.stderr,
            )
            return 1
        except OSError as err:
            print(f"{args.output}: cannot write: {err.strerror}", file=sys.stderr)
            return 1
        print(f"{args.output}: {len(out_lines)} records ({args.to})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
