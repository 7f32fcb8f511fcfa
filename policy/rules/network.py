"""VPC and EC2 networking: flow logs, default security groups, public IPs, open ports, instance metadata."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from .._graph import attached, of_types, prop
from .._props import as_list, get, is_true, number
from .._rule import ADVISORY_IN_DEV, resource_rule, stack_rule

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
DEFAULT_VPC = "aws:ec2/defaultVpc:DefaultVpc"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
RULE_TYPES = (SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE, EGRESS_RULE)
ANYWHERE = ("0.0.0.0/0", "::/0")
ADMIN_PORTS = {22: "SSH", 3389: "RDP", 80: "HTTP"}
ALL_PROTOCOLS = ("-1", "all")


@dataclass(frozen=True)
class SgRule:
    """One security-group rule, whichever resource declared it."""

    where: str
    direction: str
    protocol: str
    from_port: float | None
    to_port: float | None
    cidrs: tuple[str, ...]
    description: Any

    @property
    def from_anywhere(self) -> bool:
        return any(c in ANYWHERE for c in self.cidrs)

    @property
    def all_ports(self) -> bool:
        return self.protocol in ALL_PROTOCOLS or (self.from_port in (None, 0) and self.to_port in (None, 65535))

    def covers(self, port: int) -> bool:
        if self.all_ports:
            return True
        low, high = self.from_port, self.to_port
        return low is not None and high is not None and low <= port <= high


def _inline(entries: Any, direction: str) -> list[SgRule]:
    return [
        SgRule(
            where=f"{direction} rule {index}",
            direction=direction,
            protocol=str(get(e, "protocol", default="")).lower(),
            from_port=number(get(e, "fromPort")),
            to_port=number(get(e, "toPort")),
            cidrs=tuple(as_list(get(e, "cidrBlocks")) + as_list(get(e, "ipv6CidrBlocks"))),
            description=get(e, "description"),
        )
        for index, e in enumerate(as_list(entries))
    ]


def sg_rules(args: ResourceValidationArgs) -> list[SgRule]:
    """The rules a security group, security-group rule or VPC ingress/egress rule resource declares."""
    props = args.props
    if args.resource_type == SECURITY_GROUP:
        return _inline(get(props, "ingress"), "ingress") + _inline(get(props, "egress"), "egress")
    if args.resource_type == SECURITY_GROUP_RULE:
        return _inline([props], str(get(props, "type", default="ingress")))
    direction = "ingress" if args.resource_type == INGRESS_RULE else "egress"
    cidrs = tuple(c for c in (get(props, "cidrIpv4"), get(props, "cidrIpv6")) if c)
    return [
        SgRule(
            where=f"{direction} rule",
            direction=direction,
            protocol=str(get(props, "ipProtocol", default="")).lower(),
            from_port=number(get(props, "fromPort")),
            to_port=number(get(props, "toPort")),
            cidrs=cidrs,
            description=get(props, "description"),
        )
    ]


@stack_rule(
    name="vpc-flow-logs",
    ids=("CKV2_AWS_11", "EC2.6"),
    summary="Every VPC records flow logs",
    fix="Create aws.ec2.FlowLog(vpc_id=vpc.id, traffic_type='ALL', log_destination=<log group or bucket>, ...)",
    severity=Severity.MEDIUM,
)
def vpc_flow_logs(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for vpc in of_types(args.resources, (VPC,)):
        if not attached(args.resources, vpc, (FLOW_LOG,), "vpcId", ()):
            yield vpc, f"VPC {vpc.name} has no flow log"


@stack_rule(
    name="vpc-default-security-group-closed",
    ids=("CKV2_AWS_12", "EC2.2"),
    summary="Every VPC adopts its default security group with no rules, so nothing can use it to talk",
    fix="Create aws.ec2.DefaultSecurityGroup(vpc_id=vpc.id) with no ingress and no egress",
    severity=Severity.MEDIUM,
)
def default_security_group_closed(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for vpc in of_types(args.resources, (VPC,)):
        if not attached(args.resources, vpc, (DEFAULT_SECURITY_GROUP,), "vpcId", ()):
            yield vpc, f"VPC {vpc.name} leaves its default security group open (no DefaultSecurityGroup adopts it)"
    for group in of_types(args.resources, (DEFAULT_SECURITY_GROUP,)):
        if as_list(prop(group, "ingress")) or as_list(prop(group, "egress")):
            yield group, f"default security group {group.name} has rules"


@resource_rule(
    name="vpc-no-default-vpc",
    ids=("CKV_AWS_148",),
    summary="The stack does not manage the account's default VPC (workloads go in the stack's own VPC)",
    fix="Remove aws.ec2.DefaultVpc; create an aws.ec2.Vpc with private subnets",
    types=(DEFAULT_VPC,),
    severity=Severity.MEDIUM,
)
def no_default_vpc(_args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    yield "the stack manages the default VPC"


@resource_rule(
    name="vpc-subnet-no-auto-public-ip",
    ids=("CKV_AWS_130", "EC2.15"),
    summary="Subnets do not give instances public IP addresses automatically",
    fix="Leave map_public_ip_on_launch unset or False",
    types=(SUBNET,),
    severity=Severity.MEDIUM,
)
def subnet_no_auto_public_ip(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if is_true(get(args.props, "mapPublicIpOnLaunch")):
        yield "subnet assigns public IPs on launch"


@resource_rule(
    name="vpc-security-group-no-open-admin-ingress",
    ids=("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277", "EC2.13", "EC2.14"),
    summary="No security group opens SSH, RDP, HTTP or all ports to 0.0.0.0/0 or ::/0",
    fix="Allow the port only from the VPC CIDR, a peer security group, or use SSM Session Manager instead of SSH",
    types=RULE_TYPES,
    severity=Severity.CRITICAL,
)
def security_group_no_open_admin_ingress(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for rule in sg_rules(args):
        if rule.direction != "ingress" or not rule.from_anywhere:
            continue
        if rule.all_ports:
            yield f"{rule.where} opens all ports to the internet"
            continue
        for port, service in ADMIN_PORTS.items():
            if rule.covers(port):
                yield f"{rule.where} opens {service} ({port}) to the internet"


@resource_rule(
    name="vpc-security-group-no-open-egress",
    ids=("CKV_AWS_382",),
    summary="No security group allows all traffic out to 0.0.0.0/0 or ::/0",
    fix="Allow egress only to what the workload calls (VPC endpoints' security group, HTTPS to prefix lists)",
    types=RULE_TYPES,
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def security_group_no_open_egress(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for rule in sg_rules(args):
        if rule.direction == "egress" and rule.from_anywhere and rule.all_ports:
            yield f"{rule.where} allows all traffic to the internet"


@resource_rule(
    name="vpc-security-group-rule-descriptions",
    ids=("CKV_AWS_23",),
    summary="Every security-group rule says what it is for",
    fix="Set description= on each ingress/egress rule",
    types=RULE_TYPES,
    levels=ADVISORY_IN_DEV,
    severity=Severity.LOW,
)
def security_group_rule_descriptions(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for rule in sg_rules(args):
        if not rule.description:
            yield f"{rule.where} has no description"


@resource_rule(
    name="ec2-launch-template-imdsv2",
    ids=("CKV_AWS_79", "EC2.8", "REF-37"),
    summary="Launch templates require IMDSv2 tokens (or turn the metadata endpoint off)",
    fix="Set metadata_options={'http_endpoint': 'enabled', 'http_tokens': 'required', "
    "'http_put_response_hop_limit': 1}",
    types=(LAUNCH_TEMPLATE,),
)
def launch_template_imdsv2(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    options = get(args.props, "metadataOptions")
    if get(options, "httpEndpoint") != "disabled" and get(options, "httpTokens") != "required":
        yield "instance metadata accepts IMDSv1 requests"


@resource_rule(
    name="ec2-launch-template-hop-limit",
    ids=("CKV_AWS_341", "REF-37"),
    summary="Launch templates keep the metadata hop limit at 1, so pods cannot borrow the node's credentials",
    fix="Set metadata_options.http_put_response_hop_limit=1 and give pods their own role (IRSA / Pod Identity)",
    types=(LAUNCH_TEMPLATE,),
)
def launch_template_hop_limit(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    options = get(args.props, "metadataOptions")
    if get(options, "httpEndpoint") == "disabled":
        return
    hops = number(get(options, "httpPutResponseHopLimit"))
    if hops is None or hops > 1:
        yield f"metadata hop limit is {'unset' if hops is None else int(hops)}"
