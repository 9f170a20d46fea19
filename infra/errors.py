"""The one error type for a user's mistake: a list of one-line problems, no traceback."""

from __future__ import annotations


class SpecError(Exception):
    """A stack file (or command-line input) is invalid; each line names key, value and expectation."""

    def __init__(self, lines: list[str] | str) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


class EndpointKeyError(Exception):
    """A planning problem with one key of an endpoint (`key` is its path below `endpoints[i]`)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)
