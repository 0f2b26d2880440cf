"""What is created once per Region, with that Region's provider: the Default Host Management
service setting and the VPC endpoints. Pure: no files, no environment, no clock.
"""

from __future__ import annotations

import msgspec

from ..aws import agent_buckets as catalog
from ..spec.load import ValidatedSpec
from .session import session_kms_keys

#: The endpoints every setup behind VPC endpoints needs (AWS's "Create VPC endpoints" step, S3 gateway included).
BASE_ENDPOINT_SERVICES = ("ssm", "ssmmessages", "ec2messages", "s3")


class VpcEndpoint(msgspec.Struct, frozen=True):
    """One VPC endpoint in one Region."""

    service: str
    service_name: str
    kind: str  # "Interface" or "Gateway"


class RegionalSetup(msgspec.Struct, frozen=True):
    """What is created once per Region, with that Region's provider."""

    region: str
    default_host_management_role: str = ""  # the service setting's value, when enabled
    endpoints: tuple[VpcEndpoint, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether nothing is created in this Region."""
        return not self.default_host_management_role and not self.endpoints


def needed_endpoint_services(valid: ValidatedSpec) -> dict[str, tuple[str, ...]]:
    """Per Region, the VPC endpoint services the spec needs: the base four, kms with session
    encryption in that Region, logs with a CloudWatch Logs group."""
    spec = valid.spec
    keys = session_kms_keys(valid)
    needed = {}
    for region in spec.regions:
        services = list(BASE_ENDPOINT_SERVICES)
        if region in keys:
            services.append("kms")
        if spec.session_manager.enabled and spec.session_manager.cloudwatch_log_group:
            services.append("logs")
        needed[region] = tuple(services)
    return needed


def regional_setups(valid: ValidatedSpec) -> tuple[RegionalSetup, ...]:
    """What each Region of the spec gets, in spec order."""
    spec = valid.spec
    # Service names come from the catalog: the prefix is per service and Region (in China only
    # some interface services use cn.com.amazonaws), never derived from the partition.
    needed = needed_endpoint_services(valid)
    setups = []
    for region in spec.regions:
        endpoints: tuple[VpcEndpoint, ...] = ()
        if spec.vpc_endpoints.enabled:
            endpoints = tuple(
                VpcEndpoint(
                    service=service,
                    service_name=catalog.endpoint_service_name(service, region),
                    kind=catalog.endpoint_service(service)["kind"],
                )
                for service in spec.vpc_endpoints.services or needed[region]
            )
        role = ""
        if spec.default_host_management.enabled:
            role = f"service-role/{spec.default_host_management.role_name}"
        setups.append(RegionalSetup(region=region, default_host_management_role=role, endpoints=endpoints))
    return tuple(setups)
