"""Stateful fakes for model promotion: AWS RAM shares in the owner account, and the "shared with
me" view of the owner's Bedrock from the receiving account (copy jobs live in ``FakeBedrock``).
Requests and answers are validated against botocore's service models (``ServiceFake``), like the
other fakes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from .fake_bedrock import FakeBedrock
from .service_fake import ServiceFake


class FakeRam(ServiceFake):
    def __init__(self, account: str = "111111111111", region: str = "us-west-2"):
        super().__init__("ram")
        self.account, self.region = account, region
        self.shares: dict[str, dict[str, Any]] = {}  # by ARN
        self._ids = itertools.count(1)

    def live(self) -> list[dict[str, Any]]:
        return [s for s in self.shares.values() if s["status"] == "ACTIVE"]

    def shared_with(self, account: str) -> list[str]:
        """Model ARNs ``account`` can see through the live shares."""
        return sorted({arn for s in self.live() if account in s["principals"] for arn in s["resources"]})

    def _share(self, operation: str, arn: str) -> dict[str, Any]:
        share = self.shares.get(arn)
        if share is None or share["status"] != "ACTIVE":
            raise self._error(operation, "UnknownResourceException", f"resource share {arn} does not exist")
        return share

    def _summary(self, share: dict[str, Any]) -> dict[str, Any]:
        return {
            "resourceShareArn": share["arn"],
            "name": share["name"],
            "owningAccountId": self.account,
            "status": share["status"],
            "allowExternalPrincipals": share["allowExternalPrincipals"],
            "tags": share["tags"],
        }

    def create_resource_share(self, **params: Any) -> dict[str, Any]:
        self._enter("CreateResourceShare", params)
        for share in self.live():
            if share["clientToken"] == params.get("clientToken"):
                return self._answer("CreateResourceShare", {"resourceShare": self._summary(share)})
        arn = (
            f"arn:aws:ram:{self.region}:{self.account}:resource-share/{next(self._ids):08d}-0000-0000-0000-000000000000"
        )
        self.shares[arn] = {
            "arn": arn,
            "name": params["name"],
            "status": "ACTIVE",
            "clientToken": params.get("clientToken"),
            "resources": list(params.get("resourceArns", [])),
            "principals": list(params.get("principals", [])),
            "allowExternalPrincipals": params.get("allowExternalPrincipals", True),
            "tags": params.get("tags", []),
        }
        return self._answer("CreateResourceShare", {"resourceShare": self._summary(self.shares[arn])})

    def get_resource_shares(self, **params: Any) -> dict[str, Any]:
        self._enter("GetResourceShares", params)
        found = [self._summary(s) for s in self.shares.values() if params.get("name") in (None, s["name"])]
        return self._answer("GetResourceShares", self._page(params, "resourceShares", found))

    def get_resource_share_associations(self, **params: Any) -> dict[str, Any]:
        self._enter("GetResourceShareAssociations", params)
        field = "resources" if params["associationType"] == "RESOURCE" else "principals"
        answer = [
            {
                "resourceShareArn": arn,
                "associatedEntity": entity,
                "associationType": params["associationType"],
                "status": "ASSOCIATED",
            }
            for arn in params.get("resourceShareArns", [])
            for entity in self._share("GetResourceShareAssociations", arn)[field]
        ]
        return self._answer("GetResourceShareAssociations", self._page(params, "resourceShareAssociations", answer))

    def associate_resource_share(self, **params: Any) -> dict[str, Any]:
        self._enter("AssociateResourceShare", params)
        share = self._share("AssociateResourceShare", params["resourceShareArn"])
        share["resources"] += params.get("resourceArns", [])
        share["principals"] += params.get("principals", [])
        return self._answer("AssociateResourceShare", {})

    def disassociate_resource_share(self, **params: Any) -> dict[str, Any]:
        self._enter("DisassociateResourceShare", params)
        share = self._share("DisassociateResourceShare", params["resourceShareArn"])
        share["resources"] = [r for r in share["resources"] if r not in params.get("resourceArns", [])]
        share["principals"] = [p for p in share["principals"] if p not in params.get("principals", [])]
        return self._answer("DisassociateResourceShare", {})

    def delete_resource_share(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteResourceShare", params)
        self._share("DeleteResourceShare", params["resourceShareArn"])["status"] = "DELETED"
        return self._answer("DeleteResourceShare", {"returnValue": True})

    def tag_resource(self, **params: Any) -> dict[str, Any]:
        self._enter("TagResource", params)
        share = self._share("TagResource", params["resourceShareArn"])
        kept = [t for t in share["tags"] if t["key"] not in {n["key"] for n in params["tags"]}]
        share["tags"] = kept + list(params["tags"])
        return self._answer("TagResource", {})

    def untag_resource(self, **params: Any) -> dict[str, Any]:
        self._enter("UntagResource", params)
        share = self._share("UntagResource", params["resourceShareArn"])
        share["tags"] = [t for t in share["tags"] if t["key"] not in params["tagKeys"]]
        return self._answer("UntagResource", {})


class SharedModelsView(ServiceFake):
    """ListCustomModels in the owner's region, seen from the receiving account: models owned by
    ``owner`` (a FakeBedrock) that ``ram`` shares with ``account``."""

    def __init__(self, owner: FakeBedrock, ram: FakeRam, account: str):
        super().__init__("bedrock")
        self.owner, self.ram, self.account = owner, ram, account

    def list_custom_models(self, **params: Any) -> dict[str, Any]:
        self._enter("ListCustomModels", params)
        assert params.get("isOwned") is False, "the receiving account lists models shared with it"
        visible = set(self.ram.shared_with(self.account))
        summaries = [
            {
                "modelArn": m["modelArn"],
                "modelName": name,
                "creationTime": datetime.now(UTC),
                "baseModelArn": m["baseModelArn"],
                "baseModelName": m["baseModelArn"].split("/")[-1],
                "ownerAccountId": self.owner.account,
                "modelStatus": "Active",
            }
            for name, m in self.owner.models.items()
            if m["modelArn"] in visible and params.get("nameContains", "") in name
        ]
        return self._answer("ListCustomModels", self._page(params, "modelSummaries", summaries))
