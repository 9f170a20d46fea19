"""Azure rules, one module per area the program builds; importing a module registers its rules."""

from ml_serving_policy.azure import (  # noqa: F401 (registers the rules)
    authorization,
    cluster,
    keys,
    ml,
    monitoring,
    network,
    registry,
    storage,
)
