"""The stack's cost estimate: every billable resource the plan creates, priced from data.

Cloud-neutral: quantities come from the plan (clusters, node pools, endpoints, private endpoints
per zone, live model versions), prices from `prices.yaml` (per cloud, with sources) and the sizing
catalog (accelerator instances). No code here names a cloud. Figures are list prices in the price
data's region, at the minimum and at the maximum replica counts, per hour and per 730-hour month.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from infra.catalog import load_catalog
from infra.plan import Plan
from infra.prices import CloudPrices, Item, load_prices
from infra.sizing.solver import HOURS_PER_MONTH


@dataclass(frozen=True)
class LineItem:
    """One billable kind: `what`, how many at the minimum and maximum, and its monthly cost (USD)."""

    what: str
    quantity_min: float
    quantity_max: float
    unit_usd: float  # the list price of one
    unit: str  # hour | month
    monthly_usd_min: float
    monthly_usd_max: float
    capacity: str  # on-demand | spot | n/a (not an instance)
    source: str


@dataclass(frozen=True)
class Estimate:
    """The whole stack's monthly cost range (USD), its line items and the region its prices are for."""

    pricing_region: str
    region: str
    items: tuple[LineItem, ...]
    gap: str | None = None  # what the estimate cannot count yet

    @property
    def monthly_min(self) -> float:
        return round(sum(i.monthly_usd_min for i in self.items), 2)

    @property
    def monthly_max(self) -> float:
        return round(sum(i.monthly_usd_max for i in self.items), 2)

    @property
    def note(self) -> str | None:
        """Said when the stack runs outside the region the prices are for, or the estimate has a gap."""
        notes = [self.gap] if self.gap else []
        if self.region != self.pricing_region:
            notes.append(f"list prices are for {self.pricing_region}; {self.region} may differ")
        return "; ".join(notes) or None

    def as_dict(self) -> dict[str, object]:
        return {
            "currency": "USD",
            "pricingRegion": self.pricing_region,
            "note": self.note,
            "monthlyUsdMin": self.monthly_min,
            "monthlyUsdMax": self.monthly_max,
            "lineItems": [asdict(i) for i in self.items],
        }


def quantities(plan: Plan) -> dict[str, int]:
    """The plan quantities prices multiply (the `per` vocabulary of prices.yaml); every managed version
    autoscales (shadows too), only live versions are watched by the rollback alarms."""
    managed = [e for e in plan.endpoints if e.serving == "managed"]
    return {
        "stack": 1,
        "cluster": 1 if plan.cluster else 0,
        "private_endpoint_zone": len(plan.network.private_endpoints) * len(plan.network.zones),
        "live_managed_version": sum(1 for e in managed for m in e.models if not m.shadow),
        "managed_version": sum(len(e.models) for e in managed),
        # In-cluster serving is reached through one gateway behind the cloud's load balancer.
        "serving_gateway": 1 if plan.kubernetes else 0,
    }


def estimate(plan: Plan) -> Estimate:
    """Price every billable resource of the plan; raise KeyError when a price the plan needs is missing.

    A cloud without a section in prices.yaml yet is priced for its instances only, and says so; so is
    a system pool whose (user-chosen) instance type the price data lacks.
    """
    prices = load_prices().get(plan.cloud)
    if prices is None:
        region = load_catalog().price_regions[plan.cloud]
        gap = f"prices.yaml has no {plan.cloud} section yet: only the endpoint instances are counted"
        return Estimate(region, plan.region, tuple(_endpoints(plan)), gap)
    items = [*_endpoints(plan), *_cluster(plan, prices), *_items(plan, prices)]
    gap = None
    if plan.cluster and plan.cluster.system_pool.instance_type not in prices.instances:
        # Any EC2/VM type may run the system pool; one the price data lacks is named, not guessed.
        gap = (
            f"system pool type {plan.cluster.system_pool.instance_type!r} has no list price in"
            " infra/prices.yaml: its nodes are not counted"
        )
    return Estimate(prices.region, plan.region, tuple(i for i in items if i.quantity_max > 0), gap)


def _endpoints(plan: Plan) -> list[LineItem]:
    lines = []
    for e in plan.endpoints:
        # Managed endpoints run a fleet per model version; the plan's cost already counts each.
        managed = e.serving == "managed"
        most = sum(m.max_replicas for m in e.models) if managed else e.max_replicas
        lines.append(
            LineItem(
                f"endpoint {e.name}: {e.instance_type} ({e.serving})",
                e.min_replicas * (len(e.models) if managed else 1),
                most,
                round(e.cost.hourly_max / most, 4) if most else 0.0,
                "hour",
                e.cost.monthly_min,
                e.cost.monthly_max,
                e.capacity,
                "infra/catalog/catalog.yaml (the row's source)",
            )
        )
    return lines


def _cluster(plan: Plan, prices: CloudPrices) -> list[LineItem]:
    lines = []
    if plan.cluster:
        pool = plan.cluster.system_pool
        price = prices.instances.get(pool.instance_type)
        if price is not None:
            lines.append(
                LineItem(
                    f"cluster system pool: {pool.instance_type}",
                    pool.min_nodes,
                    pool.max_nodes,
                    price.usd_per_hour,
                    "hour",
                    round(price.usd_per_hour * pool.min_nodes * HOURS_PER_MONTH, 2),
                    round(price.usd_per_hour * pool.max_nodes * HOURS_PER_MONTH, 2),
                    pool.capacity,
                    price.source,
                )
            )
        volume = prices.node_volume
        if volume is None:
            raise KeyError(f"prices.yaml has no {plan.cloud} node_volume price")
        for p in (pool, *plan.cluster.gpu_pools):
            lines.append(
                LineItem(
                    f"node volumes, pool {p.name}: {p.disk_gib} GiB per node",
                    p.disk_gib * p.min_nodes,
                    p.disk_gib * p.max_nodes,
                    volume.usd_per_gib_month,
                    "GiB-month",
                    round(volume.usd_per_gib_month * p.disk_gib * p.min_nodes, 2),
                    round(volume.usd_per_gib_month * p.disk_gib * p.max_nodes, 2),
                    "n/a",
                    volume.source,
                )
            )
    return lines


def _items(plan: Plan, prices: CloudPrices) -> list[LineItem]:
    counts = quantities(plan)
    return [_line(item, counts[item.per] * item.count) for item in prices.items.values()]


def _line(item: Item, quantity: int) -> LineItem:
    monthly = item.usd_per_month if item.usd_per_month is not None else (item.usd_per_hour or 0.0) * HOURS_PER_MONTH
    unit, price = ("month", item.usd_per_month) if item.usd_per_month is not None else ("hour", item.usd_per_hour)
    cost = round(monthly * quantity, 2)
    return LineItem(item.what, quantity, quantity, price or 0.0, unit, cost, cost, "n/a", item.source)
