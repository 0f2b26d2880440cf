"""Example values for a module's inputs and an offline provider: what the module's README shows,
its own ``terraform test`` files run with, and the test harness plans with. Never part of a module's
resources; only ever written into examples, test roots and test files.
"""

from __future__ import annotations

from .build import ACCOUNT_ID_VARIABLE, NETWORK_VARIABLE

#: Example values for offline plans, the module's own tests and its README (AWS's documentation account).
EXAMPLE_ACCOUNT = "111122223333"
EXAMPLE_NETWORK = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnet_ids": ["subnet-0123456789abcdef0"],
    "security_group_ids": ["sg-0123456789abcdef0"],
    "route_table_ids": ["rtb-0123456789abcdef0"],
}

#: Provider settings for plans that must make no AWS call: mock credentials and every check
#: that would call AWS turned off. Only ever written into test roots and test files.
OFFLINE_PROVIDER = {
    "access_key": "mock-access-key",
    "secret_key": "mock-secret-key",
    "skip_credentials_validation": True,
    "skip_requesting_account_id": True,
    "skip_metadata_api_check": True,
    "skip_region_validation": True,
}


def example_inputs(required: list[str] | tuple[str, ...], network_regions: list[str] | tuple[str, ...]) -> dict[str, object]:
    """Example values for the module inputs in ``required``, the network keyed by ``network_regions``."""
    values: dict[str, object] = {
        ACCOUNT_ID_VARIABLE: EXAMPLE_ACCOUNT,
        NETWORK_VARIABLE: {region: dict(EXAMPLE_NETWORK) for region in network_regions},
    }
    return {name: values[name] for name in required if name in values}
