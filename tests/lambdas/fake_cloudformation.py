"""A stateful fake of the CloudFormation reads made of deployed stacks, validated against botocore's
service model like every other fake (``service_fake.py``): the tools read their resources, template
and outputs (a test deploys a synthesized template into it with the physical ids the handlers
answered); a handler reads its own stack's status (``DescribeStacks`` by the event's StackId),
which the provider simulation sets to what CloudFormation is doing while it sends each request
(``provider_sim.Provider.stack_status``)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from ..lambdas.service_fake import ServiceFake


class FakeCloudFormation(ServiceFake):
    def __init__(self, region: str = "us-east-1", account: str = "111111111111"):
        super().__init__("cloudformation")
        self.region, self.account = region, account
        self.stacks: dict[str, dict[str, Any]] = {}  # by stack name
        # What CloudFormation is doing to each stack (DescribeStacks' StackStatus), by stack name.
        self.statuses: dict[str, str] = {}

    # -- test controls ---------------------------------------------------------------------------------
    def deploy(
        self,
        name: str,
        template: dict[str, Any],
        physical_ids: dict[str, str],
        statuses: dict[str, str] | None = None,
        outputs: dict[str, str] | None = None,
    ) -> None:
        """The stack ``name`` as CloudFormation holds it once deployed: ``template``'s resources,
        each with its physical id (``physical_ids`` by logical id, the logical id otherwise). It
        holds a copy, as CloudFormation does: a test that changes the deployed stack's template
        leaves the synthesized one (a session fixture other tests read) as it was."""
        self.stacks[name] = {
            "id": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{name}/0",
            "template": copy.deepcopy(template),
            "physical_ids": dict(physical_ids),
            "statuses": dict(statuses or {}),
            "outputs": dict(outputs or {}),
        }

    def stack_id(self, name: str) -> str:
        """The unique id of the stack ``name`` (created empty if the fake does not hold it yet: a
        handler's own stack, of which the simulations need only the status)."""
        if name not in self.stacks:
            self.deploy(name, {"Resources": {}}, {})
        return str(self.stacks[name]["id"])

    def hold(self, name: str, logical_id: str, resource_type: str, physical_id: str | None, status: str) -> None:
        """The stack ``name`` holds the resource ``logical_id`` (of ``resource_type``, with
        ``physical_id`` once it has one) in ``status`` (one of botocore's ResourceStatus values):
        what ListStackResources answers while CloudFormation creates, updates and deletes it. A
        resource CloudFormation deleted stays listed as DELETE_COMPLETE, as in a stack being deleted."""
        known = self.model.shape_for("ResourceStatus").enum
        assert status in known, f"{status} is not a resource status botocore knows: {', '.join(known)}"
        self.stack_id(name)  # created empty if the fake does not hold it yet
        stack = self.stacks[name]
        stack["template"].setdefault("Resources", {})[logical_id] = {"Type": resource_type}
        if physical_id:
            stack["physical_ids"][logical_id] = physical_id
        stack["statuses"][logical_id] = status

    def set_status(self, name: str, status: str) -> None:
        """The stack ``name`` is in ``status`` (one of botocore's StackStatus values) from now on."""
        known = self.model.shape_for("StackStatus").enum
        assert status in known, f"{status} is not a stack status botocore knows: {', '.join(known)}"
        self.statuses[name] = status

    def _stack(self, operation: str, name: str) -> dict[str, Any]:
        # DescribeStacks takes the stack's name or its unique id (botocore's StackName documentation).
        found = next((n for n, s in self.stacks.items() if name in (n, s["id"])), None)
        if found is None:
            raise self._error(operation, "ValidationError", f"Stack with id {name} does not exist")
        return self.stacks[found]

    def _described(self, name: str, status: str) -> dict[str, Any]:
        stack = self.stacks[name]
        return {
            "StackId": stack["id"],
            "StackName": name,
            "CreationTime": datetime.now(UTC),
            "StackStatus": status,
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in stack["outputs"].items()],
        }

    # -- API -------------------------------------------------------------------------------------------
    def list_stack_resources(self, **params: Any) -> dict[str, Any]:
        self._enter("ListStackResources", params)
        stack = self._stack("ListStackResources", params["StackName"])
        summaries = [
            {
                "LogicalResourceId": logical,
                "PhysicalResourceId": stack["physical_ids"].get(logical, logical),
                "ResourceType": resource["Type"],
                "LastUpdatedTimestamp": datetime.now(UTC),
                "ResourceStatus": stack["statuses"].get(logical, "CREATE_COMPLETE"),
            }
            for logical, resource in stack["template"].get("Resources", {}).items()
        ]
        size = self.page_size or len(summaries) or 1
        start = int(params.get("NextToken") or 0)
        page: dict[str, Any] = {"StackResourceSummaries": summaries[start : start + size]}
        if start + size < len(summaries):
            page["NextToken"] = str(start + size)
        return self._answer("ListStackResources", page)

    def get_template(self, **params: Any) -> dict[str, Any]:
        self._enter("GetTemplate", params)
        stack = self._stack("GetTemplate", params["StackName"])
        # The API answers the body as text (boto3 parses a JSON body; the tools take either).
        answer = {"TemplateBody": json.dumps(stack["template"]), "StagesAvailable": ["Original", "Processed"]}
        return self._answer("GetTemplate", answer)

    def describe_stacks(self, **params: Any) -> dict[str, Any]:
        self._enter("DescribeStacks", params)
        stack = self._stack("DescribeStacks", params["StackName"])
        name = next(n for n, s in self.stacks.items() if s is stack)
        described = self._described(name, self.statuses.get(name, "CREATE_COMPLETE"))
        return self._answer("DescribeStacks", {"Stacks": [described]})
