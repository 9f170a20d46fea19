"""Run the real program under Pulumi's mocks, as the language host runs it during a preview.

`python -m infra.engine.mockrun STACK OUT.json` (one process per stack: the Pulumi runtime is
global). Config comes from the stack file through `set_all_config`, the program is executed
with `runpy` as `__main__`, and every RegisterResource is captured with its options. Mocks echo
inputs and return no computed outputs, so those stay unknown, exactly as in a real preview.
"""

from __future__ import annotations

import json
import logging
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, settings
from pulumi.runtime.proto import alias_pb2, resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.engine.stackfile import PROJECT, ROOT, read_stack
from infra.errors import SpecError
from infra.spec.base import SECRET

SIG_KEY = "4dabf18193072939515e22adb298388d"  # the engine's marker key for special values

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's wire sentinel for unknown values
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # the `4dabf18193072939515e22adb298388d` value of a secret


class PreviewMocks(mocks.Mocks):
    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict]:
        # A new resource at preview: its inputs are known, its id and computed outputs are not.
        outputs = dict(args.inputs)
        if args.typ.startswith("azure-native:"):
            # azure-native takes user-assigned identities as a list of ids and returns them as a map
            # keyed by id: the echoed input would not deserialize, the provider's output is unknown.
            outputs.pop("identity", None)
        return "", outputs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        # A real preview would call the cloud here; the program must stay deterministic without one.
        raise RuntimeError(f"the program called {args.token}; ml-serving makes no data-source calls")


class CapturingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, also recording each registration's options as the engine sees them."""

    def __init__(self, mock: mocks.Mocks) -> None:
        super().__init__(mock)
        self.captured: list[dict[str, Any]] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.captured.append(
                {
                    "urn": response.urn,
                    "type": request.type,
                    "name": request.name,
                    "custom": request.custom,
                    "parent": request.parent,
                    "provider": request.provider,
                    "dependencies": list(request.dependencies),
                    "propertyDependencies": {k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    **_reveal(json_format.MessageToDict(request.object)),
                    **resource_options(request),
                }
            )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 (gRPC method name)
        # A component's `register_outputs`: kept beside its registration (the stack's are exported).
        for resource in self.captured:
            if resource["urn"] == request.urn:
                resource["registeredOutputs"] = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)


def resource_options(request: resource_pb2.RegisterResourceRequest) -> dict[str, Any]:
    """Every option of a registration that decides how the engine creates, replaces or deletes it.

    Shapes: `customTimeouts` {create, update, delete: duration strings, set ones only};
    `aliases` the old identities as the SDK sends them ({"urn": ...} or a spec {name, type,
    parentUrn, noParent, stack, project}, set fields only); `hooks` {event: [hook names]};
    `replacementTrigger` the trigger value (None when unset); `deleteBeforeReplace` None unless set.
    """
    timeouts = request.customTimeouts
    return {
        "protect": request.protect if request.HasField("protect") else False,
        "retainOnDelete": request.retainOnDelete if request.HasField("retainOnDelete") else False,
        "deleteBeforeReplace": request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
        "ignoreChanges": list(request.ignoreChanges),
        "replaceOnChanges": list(request.replaceOnChanges),
        "replacementTrigger": json_format.MessageToDict(request.replacement_trigger)
        if request.HasField("replacement_trigger")
        else None,
        "replaceWith": list(request.replace_with),
        "deletedWith": request.deletedWith or None,
        "customTimeouts": {
            k: v
            for k, v in (("create", timeouts.create), ("update", timeouts.update), ("delete", timeouts.delete))
            if v
        },
        "aliases": [*({"urn": urn} for urn in request.aliasURNs), *(_alias(a) for a in request.aliases)],
        "hooks": {k: list(v) for k, v in json_format.MessageToDict(request.hooks).items()},
        "additionalSecretOutputs": list(request.additionalSecretOutputs),
        "hideDiffs": list(request.hideDiffs),
        "importId": request.importId or None,
    }


def _alias(alias: alias_pb2.Alias) -> dict[str, Any]:
    if alias.HasField("urn"):
        return {"urn": alias.urn}
    return json_format.MessageToDict(alias.spec)


def _reveal(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs with each secret unwrapped, and the secret property paths; a value the offline preview
    could not decrypt (it holds SECRET) is unknown, as it is to a reader of a real preview."""
    paths: list[str] = []

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG:
            paths.append(path)
            inner = walk(value.get("value"), path)
            return UNKNOWN if SECRET in json.dumps(inner) else inner
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}" if path else k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    revealed = walk(inputs, "")
    return {"inputs": revealed, "secret": bool(paths), "secretPaths": paths}


def run(stack: str) -> dict[str, Any]:
    """Preview one stack file in this process; return resources, outputs and the error, if any."""
    try:
        config = read_stack(stack)
    except SpecError as exc:
        return {"stack": stack, "resources": [], "outputs": {}, "error": str(exc), "warnings": []}
    return run_config(stack, config.values, config.secret_keys)


def run_config(
    stack: str, config: dict[str, str], secret_keys: tuple[str, ...] = (), program: Path = ROOT
) -> dict[str, Any]:
    """Run `program` (a directory with `__main__.py`; the project by default) once with `config`
    and its secret keys as the CLI would pass them, under a fresh mock monitor."""
    mock = PreviewMocks()
    monitor = CapturingMonitor(mock)
    diagnostics = Diagnostics()
    settings.reset_options(project=PROJECT, stack=stack, preview=True)
    mocks.set_mocks(mock, project=PROJECT, stack=stack, preview=True, monitor=monitor, logger=diagnostics.logger)
    pulumi.runtime.set_all_config(config, list(secret_keys))
    error = None
    try:
        _sync_await(run_pulumi_func(lambda: _run_main(program)))
    except pulumi.RunError as exc:
        error = str(exc)
    return {
        "stack": stack,
        "resources": monitor.captured,
        "outputs": _stack_outputs(),
        "error": error,
        "warnings": diagnostics.warnings,
    }


class Diagnostics(logging.Handler):
    """The program's warnings (`pulumi.log.warn`), which the CLI prints as diagnostics of the preview."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []
        self.logger = logging.getLogger(f"{PROJECT}.preview.{id(self)}")
        self.logger.propagate = False
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.warnings.append(record.getMessage())


def _run_main(program: Path) -> None:
    runpy.run_path(str(program), run_name="__main__")


def _stack_outputs() -> dict[str, Any]:
    root = settings.get_root_resource()
    exported = getattr(root, "outputs", {}) or {}
    return {name: _sync_await(_resolve(value)) for name, value in exported.items()}


async def _resolve(value: Any) -> Any:
    output = pulumi.Output.from_input(value)
    if not await output.is_known():
        return UNKNOWN
    return await output.future()


def main(argv: list[str]) -> int:
    stack, out = argv
    result = run(stack)
    with open(out, "w") as handle:
        json.dump(result, handle, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
