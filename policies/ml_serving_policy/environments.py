"""What the pack holds each environment to, restated from the program's `infra/environments.py`.

A policy pack is published and run on its own (`pulumi policy publish` ships this directory only),
so it cannot import the program; `tests/test_policies.py` pins every value here to the program's.
"""

from __future__ import annotations

PROD_MIN_REPLICAS = 2  # one instance failing must not take a prod endpoint down
PROD_ROLLOUTS = ("canary", "linear")  # never all at once
ENVIRONMENTS = ("dev", "staging", "prod")
