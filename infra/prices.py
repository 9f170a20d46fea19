"""List prices of the billable kinds a plan counts (`prices.yaml` beside this file), strictly typed.

A row with an unknown key, a missing price or an unknown `per` is an error naming the file and row,
so a misspelt `usd_per_hour` can never silently price something at zero.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from infra.datafile import Strict

PRICES = Path(__file__).parent / "prices.yaml"
# The plan quantities a price can multiply (see `infra.estimate.quantities`).
Per = Literal[
    "stack",
    "cluster",
    "protected_cluster",
    "private_endpoint_zone",
    "private_dns_zone",
    "managed_serving",
    "managed_endpoint",
    "live_managed_version",
    "managed_version",
    "serving_gateway",
    "nat_gateway",
    "nat_node",
]

Unit = Literal["hour", "day", "month"]


class _Row(Strict):
    """A row of this file: unknown keys are errors (`infra.datafile.Strict`)."""


class Item(_Row):
    """One billable kind: `count` of it per unit of the plan quantity `per`, at one list price, billed
    for at most `max_quantity` units (e.g. Cloud NAT charges for 32 VMs at most)."""

    what: str
    per: Per
    count: int = Field(default=1, ge=1)
    max_quantity: int | None = Field(default=None, ge=1)
    usd_per_hour: float | None = Field(default=None, ge=0)
    usd_per_day: float | None = Field(default=None, ge=0)
    usd_per_month: float | None = Field(default=None, ge=0)
    resource: str | None = None  # the Pulumi type it prices, or that creates it (tests pin the count)
    source: str

    @model_validator(mode="after")
    def _one_price(self) -> Item:
        if [self.usd_per_hour, self.usd_per_day, self.usd_per_month].count(None) != 2:
            raise ValueError("give exactly one of usd_per_hour, usd_per_day or usd_per_month")
        return self

    @property
    def price(self) -> tuple[float, Unit]:
        """(the list price of one, per hour | day | month)."""
        if self.usd_per_hour is not None:
            return self.usd_per_hour, "hour"
        if self.usd_per_day is not None:
            return self.usd_per_day, "day"
        assert self.usd_per_month is not None  # the validator gives exactly one
        return self.usd_per_month, "month"


class InstancePrice(_Row):
    usd_per_hour: float = Field(gt=0)
    source: str


class VolumePrice(_Row):
    """A node's root disk: billed per provisioned GiB (`usd_per_gib_month`), or per disk at the smallest
    size tier that holds it (`tiers`: GiB -> USD per disk-month, e.g. Azure managed disks)."""

    usd_per_gib_month: float | None = Field(default=None, gt=0)
    tiers: dict[int, float] | None = None
    source: str

    @model_validator(mode="after")
    def _one_price(self) -> VolumePrice:
        if (self.usd_per_gib_month is None) == (self.tiers is None):
            raise ValueError("give exactly one of usd_per_gib_month or tiers")
        return self

    def per_node(self, disk_gib: int) -> tuple[int, str, float]:
        """(billed units per node, unit, USD per unit-month) for a `disk_gib` root disk; ValueError
        when it is larger than every tier."""
        if self.usd_per_gib_month is not None:
            return disk_gib, "GiB-month", self.usd_per_gib_month
        assert self.tiers is not None
        fits = [size for size in self.tiers if size >= disk_gib]
        if not fits:
            raise ValueError(f"no disk tier holds {disk_gib} GiB (largest: {max(self.tiers)} GiB)")
        size = min(fits)
        return 1, f"disk-month ({size} GiB tier)", self.tiers[size]


class CloudPrices(_Row):
    region: str  # where these list prices apply
    not_counted: list[str]  # billed by volume the stack cannot know: named in the estimate's note
    items: dict[str, Item]
    instances: dict[str, InstancePrice] = Field(default_factory=dict)
    node_volume: VolumePrice  # a cluster node's root volume


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
