"""Pulumi entry point: the program lives in the `infra` package."""

from infra.program import main

main()
