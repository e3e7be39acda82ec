"""Every command that reads AWS answers a profile that is in neither AWS file (`--profile`
misspelled) in one line naming it and how to list the real ones, not "cannot reach AWS: ..."."""

from __future__ import annotations

import pytest

from constructs_lib.tools.cli import main

from ..synthesis import ROOT

SPEC = str(ROOT / "tests" / "fixtures" / "estates" / "default.yaml")


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("bench", ["bench", "us.amazon.nova-pro-v1:0", "--region", "us-east-1", "--no-progress"]),
        ("gate", ["gate", "--stage", "dev", "--spec", SPEC]),
        ("drift", ["drift", "--stage", "dev", "--spec", SPEC]),
        ("adopt", ["adopt", "--stage", "dev", "--spec", SPEC]),
        ("metrics", ["metrics", "--stage", "dev", "--spec", SPEC]),
        ("weights-digest", ["weights-digest", "s3://acme-weights/support-llama/v3/"]),
    ],
)
def test_a_profile_in_neither_aws_file_is_named_with_how_to_list_them(command, argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    extra = ["--out", str(tmp_path / "out")] if command in ("bench", "gate", "metrics") else []
    assert main([*argv, *extra, "--profile", "prdo"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"bedrock-estate {command}: the AWS profile 'prdo' (--profile) is not in your AWS config or credentials "
        "files; give one that is, with --profile or AWS_PROFILE (`aws configure list-profiles` lists them)"
    ), err


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("drift", ["drift", "--stage", "dev", "--spec", SPEC]),
        ("adopt", ["adopt", "--stage", "dev", "--spec", SPEC]),
        ("metrics", ["metrics", "--stage", "dev", "--spec", SPEC]),
        ("weights-digest", ["weights-digest", "s3://acme-weights/support-llama/v3/"]),
    ],
)
def test_no_network_is_one_line_saying_what_to_check(command, argv, tmp_path, monkeypatch, capsys):
    """Every AWS endpoint refusing the connection (a machine offline, a proxy not set): one line with
    botocore's reason and what to check, no traceback."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there: refused at once
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("cannot reach AWS: Could not connect to the endpoint URL"), (command, err)
    assert "Check this machine's network connection (and HTTPS_PROXY" in err and len(err.splitlines()) == 1
