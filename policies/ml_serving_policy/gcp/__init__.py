"""GCP rules, one module per area the program builds; importing a module registers its rules."""

from ml_serving_policy.gcp import (  # noqa: F401 (registers the rules)
    cluster,
    iam,
    keys,
    network,
    registry,
    storage,
    vertex,
)
