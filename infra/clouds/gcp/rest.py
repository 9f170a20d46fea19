"""Google REST calls for the steps the provider lacks (Vertex AI deployments, service agents, verify).

One small seam: `Api.call(method, url, body)` returns the decoded JSON and raises `ApiError` with
Google's own message. The real one authenticates with Application Default Credentials
(google-auth); tests pass a stub with the same method, so no test touches the network.
"""

from __future__ import annotations

from typing import Any, Protocol

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class ApiError(Exception):
    """A Google API call failed: the HTTP status and the API's message."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"HTTP {status}: {message}")


class Api(Protocol):
    def call(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON response of `method url` with `body`; ApiError on a non-2xx status."""
        ...


class GoogleApi:
    """`Api` over google-auth's AuthorizedSession, created on first use (never pickled live)."""

    def __init__(self) -> None:
        self._session: Any = None

    def call(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self._session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            credentials, _ = google.auth.default(scopes=list(SCOPES))
            self._session = AuthorizedSession(credentials)
        response = self._session.request(method, url, json=body, timeout=120)
        if response.status_code >= 300:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:500]
            raise ApiError(response.status_code, message)
        return response.json() if response.content else {}
