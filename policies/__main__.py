"""Builds the policy pack and serves it (the SDK starts a gRPC server and blocks).

Rules live in the importable `ml_serving_policy` package so tests can import them.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from ml_serving_policy import all_policies

PolicyPack(
    name="ml-serving",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=all_policies(),
)
