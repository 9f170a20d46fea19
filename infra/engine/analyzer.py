"""Drive the policy pack over the Analyzer gRPC protocol, the way the Pulumi CLI does.

Start `policies/__main__.py`, read its port from stdout, then GetAnalyzerInfo, Configure with the
environment's `--policy-pack-config` file, Analyze per resource and AnalyzeStack once.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from infra.engine.stackfile import PROJECT, ROOT

POLICIES = ROOT / "policies"
LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str  # advisory | mandatory
    message: str
    urn: str


class PolicyPackProcess:
    """The policy pack as a running analyzer plugin; use as a context manager.

    Entering starts the process and returns at once; the first call waits for the port it prints,
    so the pack boots while the caller does other work (runs the program). Leaving always stops
    the process, whatever happened inside the `with`.

    Like the CLI, it hands the pack the stack's identity and config in its environment
    (PULUMI_PROJECT, PULUMI_STACK, PULUMI_DRY_RUN, PULUMI_CONFIG), which the policy SDK loads.
    """

    def __init__(self, pack_dir: Path = POLICIES, stack: str = "offline", config: dict[str, str] | None = None) -> None:
        self.pack_dir = pack_dir
        self.env = {
            **os.environ,
            "PULUMI_PROJECT": PROJECT,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true",
            "PULUMI_CONFIG": json.dumps(config or {}),
        }
        self.process: subprocess.Popen[str] | None = None
        self.channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None

    def __enter__(self) -> PolicyPackProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(self.pack_dir / "__main__.py")],
            cwd=self.pack_dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process is not None:
            self.process.kill()
            self.process.communicate()

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        """The analyzer client, connected on first use to the port the pack prints.

        Raises RuntimeError (with the pack's stderr) when the pack exits instead of serving.
        """
        if self._stub is None:
            if self.process is None or self.process.stdout is None:
                raise RuntimeError("the policy pack is used outside its `with` block")
            line = self.process.stdout.readline().strip()
            if not line.isdigit():
                self.process.kill()
                _, err = self.process.communicate()
                raise RuntimeError(f"the policy pack did not start: {line} {err.strip()}")
            self.channel = grpc.insecure_channel(f"127.0.0.1:{line}")
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        return self._stub

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def configure(self, config: dict[str, Any]) -> dict[str, str]:
        """Reconcile a `--policy-pack-config` document with the pack's policies, as the CLI does.

        Per policy: its own entry (a level, or an object with `enforcementLevel` and properties),
        else `all`, else the policy's default. Returns the level each policy runs at.
        """
        levels: dict[str, str] = {}
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy in self.info().policies:
            entry = config.get(policy.name, config.get("all"))
            properties: dict[str, Any] = {}
            if isinstance(entry, dict):
                properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
                entry = entry.get("enforcementLevel", config.get("all"))
            level = LEVELS[entry] if entry else policy.enforcementLevel
            request.policyConfig[policy.name].enforcementLevel = level
            request.policyConfig[policy.name].properties.update(properties)
            levels[policy.name] = LEVEL_NAMES[level]
        self.stub.Configure(request)
        return levels

    def analyze(self, resources: list[dict[str, Any]]) -> list[Violation]:
        """Analyze each resource, then the stack; every diagnostic as a Violation."""
        found: list[Violation] = []
        by_urn = {r["urn"]: r for r in resources}
        for resource in resources:
            request = analyzer_pb2.AnalyzeRequest(
                type=resource["type"],
                name=resource["name"],
                urn=resource["urn"],
                properties=_struct(resource["inputs"]),
                options=_options(resource),
                provider=_provider(resource, by_urn),
            )
            found += _violations(self.stub.Analyze(request), resource["urn"])
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r["type"],
                    name=r["name"],
                    urn=r["urn"],
                    properties=_struct(r["inputs"]),
                    options=_options(r),
                    parent=r["parent"],
                    dependencies=r["dependencies"],
                    provider=_provider(r, by_urn),
                    propertyDependencies={
                        k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                        for k, v in r["propertyDependencies"].items()
                    },
                )
                for r in resources
            ]
        )
        found += _violations(self.stub.AnalyzeStack(stack_request), "")
        return found


def load_policy_config(environment: str) -> dict[str, Any]:
    return json.loads((POLICIES / "config" / f"{environment}.json").read_text())


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(values, struct_pb2.Struct())


def _options(resource: dict[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    """The options the CLI hands the pack; aliases as the URNs the program gave (specs it resolves)."""
    delete_before_replace = resource["deleteBeforeReplace"]
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource["protect"],
        parent=resource["parent"],
        ignoreChanges=resource["ignoreChanges"],
        deleteBeforeReplace=bool(delete_before_replace),
        deleteBeforeReplaceDefined=delete_before_replace is not None,
        additionalSecretOutputs=resource["additionalSecretOutputs"],
        aliases=[a["urn"] for a in resource["aliases"] if "urn" in a],
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            **{k: _seconds(v) for k, v in resource["customTimeouts"].items()}
        ),
    )


def _seconds(duration: str) -> float:
    """A Go duration as the SDK writes it (`30m`, `1h`, `1h30m`, `90s`) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)([hms])", duration))


def _provider(
    resource: dict[str, Any], by_urn: dict[str, dict[str, Any]]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    """The resource's provider; a provider reference is `<provider urn>::<provider id>`."""
    provider = by_urn.get(resource["provider"].rsplit("::", 1)[0])
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider["type"], name=provider["name"], urn=provider["urn"], properties=_struct(provider["inputs"])
    )


def _violations(response: analyzer_pb2.AnalyzeResponse, urn: str) -> list[Violation]:
    return [
        Violation(d.policyName, LEVEL_NAMES[d.enforcementLevel], d.message, d.urn or urn) for d in response.diagnostics
    ]
