"""The stack's cost estimate: every billable resource the plan creates, priced from data.

Cloud-neutral: quantities come from the plan (clusters, node pools, endpoints, private endpoints,
DNS zones, NAT, live model versions), prices from `prices.yaml` (per cloud, with sources) and the
sizing catalog (accelerator instances). No code here names a cloud. Figures are list prices in the
price data's region, at the minimum and at the maximum replica counts, per 730-hour month; charges
billed by a volume the stack cannot know are named in the estimate's note, not guessed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

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
    """The whole stack's monthly cost range (USD), its line items, the region its prices are for and
    what it leaves out: charges billed by a volume the stack cannot know (storage, logs, traffic), and
    resources the price data has no list price for (`unpriced`, each said in a sentence)."""

    pricing_region: str
    region: str
    items: tuple[LineItem, ...]
    not_counted: tuple[str, ...]
    unpriced: tuple[str, ...] = ()

    @property
    def monthly_min(self) -> float:
        return round(sum(i.monthly_usd_min for i in self.items), 2)

    @property
    def monthly_max(self) -> float:
        return round(sum(i.monthly_usd_max for i in self.items), 2)

    @property
    def note(self) -> str:
        """What the figures leave out, and whether the stack runs outside the region the prices are for."""
        notes = [*self.unpriced, f"not counted (billed by volume): {', '.join(self.not_counted)}"]
        if self.region != self.pricing_region:
            notes.append(f"list prices are for {self.pricing_region}; {self.region} may differ")
        return "; ".join(notes)

    def as_dict(self) -> dict[str, object]:
        return {
            "currency": "USD",
            "pricingRegion": self.pricing_region,
            "note": self.note,
            "monthlyUsdMin": self.monthly_min,
            "monthlyUsdMax": self.monthly_max,
            "lineItems": [asdict(i) for i in self.items],
        }


class Quantity(NamedTuple):
    """How many of a plan quantity the stack has at its minimum and at its maximum."""

    low: int
    high: int


def quantities(plan: Plan) -> dict[str, Quantity]:
    """The plan quantities prices multiply (the `per` vocabulary of prices.yaml). Every managed version
    autoscales (shadows too), only live versions are watched by the rollback alarms; a created NAT
    gateway serves every cluster node (from the pools' minimum to their maximum)."""
    managed = [e for e in plan.endpoints if e.serving == "managed"]
    network = plan.network
    nat = network.create and network.egress
    pools = (plan.cluster.system_pool, *plan.cluster.gpu_pools) if plan.cluster else ()
    fixed = {
        "stack": 1,
        "cluster": 1 if plan.cluster else 0,
        "protected_cluster": 1 if plan.cluster and plan.protect else 0,
        "private_endpoint_zone": len(network.private_endpoints)
        * (len(network.zones) if network.private_endpoints_per_zone else 1),
        "private_dns_zone": len(network.private_dns_zones),
        "managed_serving": 1 if managed else 0,
        "managed_endpoint": len(managed),
        "live_managed_version": sum(1 for e in managed for m in e.models if not m.shadow),
        "managed_version": sum(len(e.models) for e in managed),
        # In-cluster serving is reached through one gateway behind the cloud's load balancer.
        "serving_gateway": 1 if plan.kubernetes else 0,
        "nat_gateway": 1 if nat else 0,
    }
    counts = {k: Quantity(v, v) for k, v in fixed.items()}
    counts["nat_node"] = (
        Quantity(sum(p.min_nodes for p in pools), sum(p.max_nodes for p in pools)) if nat else Quantity(0, 0)
    )
    return counts


def estimate(plan: Plan) -> Estimate:
    """Price every billable resource of the plan from prices.yaml and the catalog; raise KeyError when
    the plan's cloud has no prices (every cloud the program translates has a section).

    Any instance type may run the system pool: one the price data lacks is named in the note (which
    the budget rule reads), not guessed.
    """
    prices = load_prices()[plan.cloud]
    items = [*_endpoints(plan), *_cluster(plan, prices), *_items(plan, prices)]
    unpriced: tuple[str, ...] = ()
    if plan.cluster and plan.cluster.system_pool.instance_type not in prices.instances:
        unpriced = (
            f"system pool type {plan.cluster.system_pool.instance_type!r} has no list price in"
            " infra/prices.yaml: its nodes are not counted",
        )
    counted = tuple(i for i in items if i.quantity_max > 0)
    return Estimate(prices.region, plan.region, counted, tuple(prices.not_counted), unpriced)


def _endpoints(plan: Plan) -> list[LineItem]:
    lines = []
    for e in plan.endpoints:
        # Managed endpoints run a fleet per model version; the plan's cost already counts each.
        managed = e.serving == "managed"
        # On Kubernetes the stable version's nodes plus the nodes its canaries' fixed pods occupy.
        canaries = sum(e.canary_nodes.values())
        most = sum(m.max_replicas for m in e.models) if managed else e.max_replicas + canaries
        lines.append(
            LineItem(
                f"endpoint {e.name}: {e.instance_type} ({e.serving})",
                e.min_replicas * len(e.models) if managed else e.min_replicas + canaries,
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
        for p in (pool, *plan.cluster.gpu_pools):
            units, unit, usd = volume.per_node(p.disk_gib)
            lines.append(
                LineItem(
                    f"node volumes, pool {p.name}: {p.disk_gib} GiB per node",
                    units * p.min_nodes,
                    units * p.max_nodes,
                    usd,
                    unit,
                    round(usd * units * p.min_nodes, 2),
                    round(usd * units * p.max_nodes, 2),
                    "n/a",
                    volume.source,
                )
            )
    return lines


def _items(plan: Plan, prices: CloudPrices) -> list[LineItem]:
    counts = quantities(plan)
    return [_line(item, counts[item.per]) for item in prices.items.values()]


# A 730-hour month in each unit a price is given in.
PER_MONTH = {"hour": HOURS_PER_MONTH, "day": HOURS_PER_MONTH / 24, "month": 1}


def _line(item: Item, quantity: Quantity) -> LineItem:
    price, unit = item.price
    cap = item.max_quantity
    low, high = (min(n * item.count, cap) if cap else n * item.count for n in quantity)
    monthly = price * PER_MONTH[unit]
    return LineItem(
        item.what, low, high, price, unit, round(monthly * low, 2), round(monthly * high, 2), "n/a", item.source
    )
