"""Every AWS price row counts exactly what the program registers: the estimate and the preview agree."""

from __future__ import annotations

import pytest

from infra.engine.stackfile import read_config
from infra.estimate import estimate
from infra.plan import build_plan
from infra.prices import load_prices
from infra.spec import load_spec
from tests.conftest import SHIPPED, preview_of
from tests.cost_rows import Counter, assert_row_counts_the_preview, gateway_load_balancers, of, row_cases

COUNTED: dict[str, Counter] = {
    "cluster": lambda rs: len(of(rs, "aws:eks/cluster:Cluster")),
    "private_endpoint": lambda rs: sum(
        len(r["inputs"]["subnetIds"])
        for r in of(rs, "aws:ec2/vpcEndpoint:VpcEndpoint")
        if r["inputs"]["vpcEndpointType"] == "Interface"
    ),
    "key": lambda rs: len(of(rs, "aws:kms/key:Key")),
    "rollback_alarm_metric": lambda rs: sum(
        sum("metric" in q for q in r["inputs"]["metricQueries"])
        for r in of(rs, "aws:cloudwatch/metricAlarm:MetricAlarm")
    ),
    # The gateway's Service of type LoadBalancer becomes a Network Load Balancer.
    "gateway_load_balancer": gateway_load_balancers,
    # Application Auto Scaling creates a high and a low alarm per target-tracking policy.
    "scaling_alarm": lambda rs: 2 * len(of(rs, "aws:appautoscaling/policy:Policy")),
}


def test_every_aws_price_row_has_a_count_from_the_preview() -> None:
    assert set(COUNTED) == set(load_prices()["aws"].items)


@pytest.mark.parametrize(("stack", "row"), row_cases(SHIPPED, "aws", {}))
def test_each_price_row_counts_what_the_program_registers(stack: str, row: str) -> None:
    assert_row_counts_the_preview(stack, row, COUNTED)


@pytest.mark.parametrize("stack", ["aws-staging"])
def test_the_system_pool_line_counts_the_registered_node_group(stack: str) -> None:
    (group,) = [
        g
        for g in of(preview_of(stack)["resources"], "aws:eks/nodeGroup:NodeGroup")
        if g["inputs"]["labels"]["ml-serving/pool"] == "system"
    ]
    plan = build_plan(load_spec(read_config(stack)), stack)
    (line,) = [i for i in estimate(plan).items if i.what.startswith("cluster system pool")]
    scaling = group["inputs"]["scalingConfig"]
    assert (line.quantity_min, line.quantity_max) == (scaling["minSize"], scaling["maxSize"])
    assert group["inputs"]["instanceTypes"] == [plan.cluster.system_pool.instance_type]


@pytest.mark.parametrize("stack", ["aws-staging", "aws-prod"])
def test_node_volume_lines_count_the_launch_templates_volumes(stack: str) -> None:
    resources = preview_of(stack)["resources"]
    plan = build_plan(load_spec(read_config(stack)), stack)
    lines = {i.what: i for i in estimate(plan).items if i.what.startswith("node volumes")}
    # Each node group found by the pool label it carries, and its launch template by the dependency the
    # engine records for the group's launchTemplate input (logical names come from the naming layer).
    groups = {g["inputs"]["labels"]["ml-serving/pool"]: g for g in of(resources, "aws:eks/nodeGroup:NodeGroup")}
    templates = {t["urn"]: t for t in of(resources, "aws:ec2/launchTemplate:LaunchTemplate")}
    assert plan.cluster and len(lines) == 1 + len(plan.cluster.gpu_pools) == len(groups)
    for pool in (plan.cluster.system_pool, *plan.cluster.gpu_pools):
        line = lines[f"node volumes, pool {pool.name}: {pool.disk_gib} GiB per node"]
        group = groups[pool.name]
        scaling = group["inputs"]["scalingConfig"]
        (template_urn,) = group["propertyDependencies"]["launchTemplate"]
        (device,) = templates[template_urn]["inputs"]["blockDeviceMappings"]
        size = device["ebs"]["volumeSize"]
        assert (line.quantity_min, line.quantity_max) == (size * scaling["minSize"], size * scaling["maxSize"])
        assert device["ebs"]["volumeType"] == "gp3"
