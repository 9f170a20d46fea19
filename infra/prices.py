"""List prices of the billable kinds a plan counts (`prices.yaml` beside this file), strictly typed.

A row with an unknown key, a missing price or an unknown `per` is an error naming the file and row,
so a misspelt `usd_per_hour` can never silently price something at zero.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PRICES = Path(__file__).parent / "prices.yaml"
# The plan quantities a price can multiply (see `infra.estimate.quantities`).
Per = Literal["stack", "cluster", "private_endpoint_zone", "live_managed_version", "managed_version", "serving_gateway"]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Row):
    """One billable kind: `count` of it per unit of the plan quantity `per`, at one list price."""

    what: str
    per: Per
    count: int = Field(default=1, ge=1)
    usd_per_hour: float | None = Field(default=None, ge=0)
    usd_per_month: float | None = Field(default=None, ge=0)
    resource: str | None = None  # the Pulumi type it prices, when the program registers one
    source: str

    @model_validator(mode="after")
    def _one_price(self) -> Item:
        if (self.usd_per_hour is None) == (self.usd_per_month is None):
            raise ValueError("give exactly one of usd_per_hour or usd_per_month")
        return self


class InstancePrice(_Row):
    usd_per_hour: float = Field(gt=0)
    source: str


class VolumePrice(_Row):
    usd_per_gib_month: float = Field(gt=0)
    source: str


class CloudPrices(_Row):
    region: str  # where these list prices apply
    items: dict[str, Item]
    instances: dict[str, InstancePrice] = Field(default_factory=dict)
    node_volume: VolumePrice | None = None  # a cluster node's root volume


@cache
def load_prices() -> dict[str, CloudPrices]:
    """`{cloud: CloudPrices}`; raise ValueError naming the file and row on a malformed row."""
    raw = yaml.safe_load(PRICES.read_text())
    prices: dict[str, CloudPrices] = {}
    for cloud, section in raw.items():
        try:
            prices[cloud] = CloudPrices.model_validate(section)
        except ValidationError as exc:
            where = "; ".join(f"{cloud}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"{PRICES.name}: {where}") from None
    return prices
