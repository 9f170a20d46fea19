"""The stack spec: the validated, cloud-neutral description of what a stack serves.

It is read from the stack's `ml-serving:*` config keys exactly as the Pulumi CLI hands them to
the program (strings; structured values JSON-encoded). Every problem is reported at once, one
line each, naming the key path, the value and what is expected. No Pulumi import here.
"""

from infra.spec.base import NAMESPACE, Name
from infra.spec.load import config_to_input, error_lines, load_spec
from infra.spec.requirements import Precision, Requirements
from infra.spec.stack import (
    Autoscaling,
    Cluster,
    Endpoint,
    Model,
    Network,
    Registry,
    Rollout,
    Sizing,
    Spec,
    SystemPool,
)

__all__ = [
    "NAMESPACE",
    "Autoscaling",
    "Cluster",
    "Endpoint",
    "Model",
    "Name",
    "Network",
    "Precision",
    "Registry",
    "Requirements",
    "Rollout",
    "Sizing",
    "Spec",
    "SystemPool",
    "config_to_input",
    "error_lines",
    "load_spec",
]
