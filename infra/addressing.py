"""Address ranges of a created network, carved from the stack's CIDR by the cloud's layout in facts.yaml.

The plan decides every range (subnets per zone on AWS, endpoint and node subnets on Azure, the GKE
node, pod and service ranges on GCP) so the translators only build them, and so a CIDR too small for
the cluster it must hold is refused with the spec's other problems, before any resource.
"""

from __future__ import annotations

import ipaddress
import math

from infra.facts import cloud_facts


def carve(cloud: str, cidr: str, zones: tuple[str, ...]) -> dict[str, str]:
    """`{range name: CIDR}` for a network created from `cidr` (an IPv4 block, /16-/22 by the spec).

    A `per_zone` range is named after each zone (`{"us-east-1a": "10.0.0.0/18", ...}`); the others
    by their role (`nodes`, `pods`, `services`, `endpoints`, `control_plane`).
    """
    network = ipaddress.IPv4Network(cidr)
    ranges: dict[str, str] = {}
    for name, rule in cloud_facts()[cloud]["address_ranges"].items():
        blocks = list(network.subnets(prefixlen_diff=rule["prefix_diff"]))
        if rule.get("per_zone"):
            ranges |= {zone: str(blocks[rule["index"] + i]) for i, zone in enumerate(zones)}
        else:
            block = blocks[rule["index"]]
            # `prefix`: a range of fixed size (GKE's control plane takes exactly a /28), the block's first.
            ranges[name] = str(next(block.subnets(new_prefix=rule["prefix"])) if "prefix" in rule else block)
    return ranges


def pod_range_problem(cloud: str, cidr: str, ranges: dict[str, str], max_nodes: int) -> str | None:
    """One spec line when the cloud gives each node a pod block (`pod_block_prefix`, GKE) and the pod
    range carved from `cidr` holds fewer than `max_nodes` (every pool at its maximum); else None."""
    block = cloud_facts()[cloud].get("pod_block_prefix")
    if block is None or "pods" not in ranges:
        return None
    pods = ipaddress.IPv4Network(ranges["pods"])
    room = 2 ** (block - pods.prefixlen)
    if max_nodes <= room:
        return None
    # The pod range keeps its share of the CIDR: each halving of the prefix doubles the room.
    needed = ipaddress.IPv4Network(cidr).prefixlen - math.ceil(math.log2(max_nodes / room))
    return (
        f"ml-serving:network.cidr: {cidr!r} leaves a /{pods.prefixlen} pod range, room for {room} nodes"
        f" (a /{block} each), but the cluster's pools may grow to {max_nodes} nodes; expected a /{needed}"
        " or larger block, or lower maximum node counts"
    )
