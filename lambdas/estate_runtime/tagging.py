"""Tags changed in place: the one rule every kind follows when only its declared tags change.

Declared keys that are gone are removed, new or changed values set; tags the estate never declared
(added by a tag policy or by hand) are left as they are. The calls name their service and operation
literally, so the permission tests can read from the code what each handler calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .aws import Aws

Tags = Sequence[Mapping[str, str]] | None


def tag_changes(old: Tags, new: Tags) -> tuple[list[dict[str, str]], list[str]]:
    """(tags to set, keys to remove) to go from the ``old`` declared tags to the ``new``."""
    before = {t["key"]: t["value"] for t in old or []}
    after = {t["key"]: t["value"] for t in new or []}
    changed = [{"key": k, "value": v} for k, v in sorted(after.items()) if before.get(k) != v]
    return changed, sorted(set(before) - set(after))


def retag_bedrock(aws: Aws, arn: str, old: Tags, new: Tags) -> None:
    """The Bedrock resource ``arn`` carries the ``new`` declared tags instead of the ``old``."""
    changed, removed = tag_changes(old, new)
    if removed:
        aws.call("bedrock", "untag_resource", resourceARN=arn, tagKeys=removed)
    if changed:
        aws.call("bedrock", "tag_resource", resourceARN=arn, tags=changed)


def retag_share(aws: Aws, share_arn: str, old: Tags, new: Tags) -> None:
    """The RAM resource share ``share_arn`` carries the ``new`` declared tags instead of the ``old``."""
    changed, removed = tag_changes(old, new)
    if removed:
        aws.call("ram", "untag_resource", resourceShareArn=share_arn, tagKeys=removed)
    if changed:
        aws.call("ram", "tag_resource", resourceShareArn=share_arn, tags=changed)
