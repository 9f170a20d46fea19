"""A minimal Azure Resource Manager REST client for what the providers lack at run time: the
traffic step and `verify`. GET and PUT on resource ids, waiting for long-running PUTs.

Tokens come from azure-identity's DefaultAzureCredential (CLI login, workload identity in CI,
managed identity), imported only when a real client is made: tests pass a stub session instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MANAGEMENT = "https://management.azure.com"
SCOPE = f"{MANAGEMENT}/.default"
TERMINAL = {"Succeeded", "Failed", "Canceled"}
POLL_SECONDS = 10
TIMEOUT_SECONDS = 1800


class ArmError(Exception):
    """An ARM call failed: the message names the resource, the status and ARM's error text."""


# `requests.Session().request`, or a stub with its signature in tests.
Send = Callable[..., Any]


class Arm:
    """`get(id, api)` and `put(id, api, body)` against management.azure.com, as JSON documents."""

    def __init__(self, send: Send, token: Callable[[], str], sleep: Callable[[float], None]) -> None:
        self._send = send
        self._token = token
        self._sleep = sleep

    def get(self, resource_id: str, api_version: str) -> dict[str, Any]:
        return self._call("GET", f"{MANAGEMENT}{resource_id}", api_version)

    def put(self, resource_id: str, api_version: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT and wait (up to 30 minutes) until the resource's provisioning state is terminal."""
        self._call("PUT", f"{MANAGEMENT}{resource_id}", api_version, body)
        waited = 0.0
        while True:
            current = self.get(resource_id, api_version)
            state = current.get("properties", {}).get("provisioningState", "Succeeded")
            if state == "Succeeded":
                return current
            if state in TERMINAL:
                raise ArmError(f"{resource_id}: provisioning ended {state}")
            if waited >= TIMEOUT_SECONDS:
                raise ArmError(f"{resource_id}: still {state} after {TIMEOUT_SECONDS} s")
            self._sleep(POLL_SECONDS)
            waited += POLL_SECONDS

    def _call(self, method: str, url: str, api_version: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._send(
            method,
            url,
            params={"api-version": api_version},
            json=body,
            headers={"Authorization": f"Bearer {self._token()}"},
            timeout=60,
        )
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
                text = f"{error.get('code', '')}: {error.get('message', '')}"
            except ValueError:
                text = response.text[:200]
            raise ArmError(f"{method} {url.removeprefix(MANAGEMENT)}: HTTP {response.status_code} {text}")
        return response.json() if response.content else {}


def connect(sleep: Callable[[float], None]) -> Arm:
    """A client with DefaultAzureCredential's token and a requests session."""
    import requests
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential()
    return Arm(requests.Session().request, lambda: credential.get_token(SCOPE).token, sleep)
