"""``bedrock-estate weights-digest s3://bucket/folder/``: the digest an import pins in the spec
(``imports.<name>.weights.digest``), read with the user's credentials, exactly as the import's
pre-flight computes it at deploy (``estate_runtime.kinds.imported_model.weights_digest``): every
file's path in the folder, size and full-object checksum. Read only."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from estate_runtime.kinds.imported_model import weights_digest, weights_file_id, weights_uri_problem
from estate_runtime.s3_uri import split_s3_uri


def folder_files(s3: Any, uri: str) -> dict[str, tuple[int, str]]:
    """Every object under the folder, by its path in the folder: (size, ``weights_file_id``)."""
    bucket, prefix = split_s3_uri(uri)
    files: dict[str, tuple[int, str]] = {}
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = s3.list_objects_v2(**params)
        for item in page.get("Contents") or []:
            head = s3.head_object(Bucket=bucket, Key=item["Key"], ChecksumMode="ENABLED")
            files[item["Key"][len(prefix) :]] = (int(head.get("ContentLength", item["Size"])), weights_file_id(head))
        if not page.get("IsTruncated") or not page.get("NextContinuationToken"):
            return files
        params = {**params, "ContinuationToken": page["NextContinuationToken"]}


def render(uri: str, files: dict[str, tuple[int, str]]) -> str:
    total = sum(size for size, _ in files.values())
    lines = [f"{uri}: {len(files)} file(s), {total / 1024**3:.2f} GiB"]
    lines += [f"  {key}  {size} bytes  {file_id}" for key, (size, file_id) in sorted(files.items())]
    by_etag = [key for key, (_, file_id) in files.items() if file_id.startswith("etag:")]
    if by_etag:
        lines.append(
            f"note: {len(by_etag)} file(s) have no full-object checksum ({', '.join(sorted(by_etag)[:3])}"
            f"{', ...' if len(by_etag) > 3 else ''}): their ETag stands for them only in this bucket, so a copy in "
            "another stage's bucket gets another digest. Upload them again with --checksum-algorithm CRC64NVME "
            "(or copy them within S3, which adds S3's default CRC64NVME) before pinning"
        )
    lines.append(f"weights.digest: {weights_digest(files)}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("s3_uri", help="the weights folder, s3://bucket/folder/ (as the import's weights.s3Uri)")
    parser.add_argument(
        "--profile", default=None, help="AWS profile that may read the folder (default: the environment's credentials)"
    )


def main(args: argparse.Namespace, session: Any = None) -> int:
    """The CLI command. ``session``: a boto3 session (tests pass one); default from the environment
    and ``--profile``."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    if (problem := weights_uri_problem(args.s3_uri)) is not None:
        print(f"weights-digest: {problem}", file=sys.stderr)
        return 2
    try:
        if session is None:
            import boto3

            session = boto3.Session(profile_name=args.profile)
            if session.get_credentials() is None:
                raise NoCredentialsError()
        files = folder_files(session.client("s3"), args.s3_uri)
    except NoCredentialsError:
        print(
            "no AWS credentials: sign in to an account that may read the folder (e.g. --profile or AWS_PROFILE) and run again",
            file=sys.stderr,
        )
        return 1
    except ClientError as error:
        print(
            f"AWS refused a request: {error}. The folder's reader needs s3:ListBucket on the bucket and "
            "s3:GetObject on the folder's files (and kms:Decrypt for an SSE-KMS bucket)",
            file=sys.stderr,
        )
        return 1
    except ProfileNotFound:
        from .deployed import unknown_profile

        print(unknown_profile("weights-digest", args.profile), file=sys.stderr)
        return 1
    except BotoCoreError as error:
        from .deployed import unreachable

        print(unreachable(error), file=sys.stderr)
        return 1
    if not files:
        print(f"{args.s3_uri} holds no files: nothing to pin", file=sys.stderr)
        return 1
    print(render(args.s3_uri, files))
    return 0
