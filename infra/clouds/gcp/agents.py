"""Google service agents: the Google-managed identities that use the stack's key for a service.

Vertex AI, Artifact Registry, Cloud Storage, BigQuery, GKE and Compute Engine each encrypt with
the stack's key through their own service agent, which needs the key's encrypter/decrypter role
*before* the first CMEK resource of that service is created. Two traps, both handled here:

- an agent may not exist yet in a fresh project, and granting a role to a missing account fails.
  Vertex AI, Artifact Registry and GKE agents are provisioned with `ServiceIdentity`; Cloud
  Storage and BigQuery are not supported by it (terraform-google-project-factory #803,
  terraform-provider-google #9730) and create theirs when their "get service account" method is
  first called, which the `ServiceAgent` resource below does;
- the program makes no data-source calls (a preview must not need the cloud), so agent emails
  that embed the project number are derived from the Vertex AI agent's email.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider

from infra.clouds.gcp.rest import Api, GoogleApi

# Agents provisioned by ServiceIdentity: agent -> API.
IDENTITY_SERVICES = {
    "aiplatform": "aiplatform.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
    "container": "container.googleapis.com",
}
# Agents created by their service's own "get service account" call: agent -> (URL, email field, source).
LOOKUP_SERVICES = {
    "storage": (
        "https://storage.googleapis.com/storage/v1/projects/{project}/serviceAccount",
        "email_address",
        "cloud.google.com/storage/docs/json_api/v1/projects/serviceAccount/get",
    ),
    "bigquery": (
        "https://bigquery.googleapis.com/bigquery/v2/projects/{project}/serviceAccount",
        "email",
        "cloud.google.com/bigquery/docs/reference/rest/v2/projects/getServiceAccount",
    ),
}
# The Compute Engine agent exists once the API is enabled; its address embeds the project number
# (cloud.google.com/compute/docs/access/service-accounts#compute_engine_service_agent).
COMPUTE_AGENT = "service-{n}@compute-system.iam.gserviceaccount.com"
_NUMBER = re.compile(r"^service-(\d+)@")


def project_number(agent_email: str) -> str:
    """The project number in a service agent's email (`service-<number>@...`); ValueError otherwise."""
    found = _NUMBER.match(agent_email)
    if found is None:
        raise ValueError(f"{agent_email!r} is not a service agent email (service-<project number>@...)")
    return found[1]


class ServiceAgentProvider(ResourceProvider):
    """Reads (and so creates) a service's agent through its "get service account" method."""

    def __init__(self, api_factory: Callable[[], Api] = GoogleApi) -> None:
        self.api_factory = api_factory

    def create(self, props: dict[str, Any]) -> CreateResult:
        response = self.api_factory().call("GET", props["url"])
        email = response[props["field"]]
        return CreateResult(email, {**props, "email": email})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("url", "field") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, stables=[], delete_before_replace=False)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """The agent belongs to the project, not to this stack: nothing to delete."""


class ServiceAgent(pulumi.dynamic.Resource):
    email: pulumi.Output[str]

    def __init__(self, name: str, agent: str, project: str, opts: pulumi.ResourceOptions) -> None:
        url, field, _ = LOOKUP_SERVICES[agent]
        props = {"url": url.format(project=project), "field": field, "email": None}
        super().__init__(ServiceAgentProvider(), name, props, opts)


def agent_emails(name: str, project: str, agents: list[str], opts: pulumi.ResourceOptions) -> dict[str, Any]:
    """`{agent: email Output}` for `agents` (keys of IDENTITY_SERVICES or LOOKUP_SERVICES, or
    'compute', which needs 'container' in the list)."""
    emails: dict[str, Any] = {}
    for agent in agents:
        if agent in IDENTITY_SERVICES:
            emails[agent] = gcp.projects.ServiceIdentity(
                f"{name}-{agent}-agent", service=IDENTITY_SERVICES[agent], opts=opts
            ).email
        elif agent in LOOKUP_SERVICES:
            emails[agent] = ServiceAgent(f"{name}-{agent}-agent", agent, project, opts).email
    if "compute" in agents:
        # Node boot disks are encrypted by the Compute Engine agent; a cluster always has the GKE agent.
        emails["compute"] = pulumi.Output.from_input(emails["container"]).apply(
            lambda e: COMPUTE_AGENT.format(n=project_number(e))
        )
    return emails
