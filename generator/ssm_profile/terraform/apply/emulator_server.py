"""The AWS API emulator process: a moto server on 127.0.0.1, plus the SSM calls moto lacks.

Run as ``python -m ssm_profile.terraform.apply.emulator_server``; :mod:`.emulator` starts and stops
it. The server binds an ephemeral loopback port and prints it as its first line of output, so
the port is never guessed and nothing listens on another address. It exits when its parent
does, so a killed ``ssm-profile`` leaves no listener behind.

Imports moto, so only the ``emulator`` extra's environment can run it.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

# -- SSM service settings ------------------------------------------------------------------
#
# Upstream note (moto 5.2.5, to be dropped when moto implements these operations):
#   moto's SSM backend does not implement GetServiceSetting, UpdateServiceSetting and
#   ResetServiceSetting; the server answers them with an error, and the hashicorp/aws
#   provider's aws_ssm_service_setting then retries until its timeout. These three handlers
#   follow the API reference: a setting is one of AWS's documented IDs, addressed by its ID
#   or its ARN; UpdateServiceSetting stores a value (status "Customized"), ResetServiceSetting
#   returns to the service's default (status "Default"); an unknown ID is ServiceSettingNotFound.
#   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetServiceSetting.html
#   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_UpdateServiceSetting.html
#   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ResetServiceSetting.html
#   AWS's per-setting default values are not modelled: a setting never updated reads as "".

#: The setting IDs GetServiceSetting accepts (API reference, SettingId).
SERVICE_SETTING_IDS = (
    "/ssm/appmanager/appmanager-enabled",
    "/ssm/automation/customer-script-log-destination",
    "/ssm/automation/customer-script-log-group-name",
    "/ssm/automation/enable-adaptive-concurrency",
    "/ssm/documents/console/public-sharing-permission",
    "/ssm/managed-instance/activation-tier",
    "/ssm/managed-instance/default-ec2-instance-management-role",
    "/ssm/opsinsights/opscenter",
    "/ssm/parameter-store/default-parameter-tier",
    "/ssm/parameter-store/high-throughput-enabled",
)
_SETTINGS_ATTRIBUTE = "_ssm_profile_service_settings"


def setting_path(setting_id: str) -> str:
    """``/ssm/...`` from a setting ID given as an ID or as its ARN (``...:servicesetting/ssm/...``)."""
    if setting_id.startswith("arn:") and ":servicesetting/" in setting_id:
        return setting_id.split(":servicesetting", 1)[1]
    return setting_id


def install_service_settings() -> None:
    """Add GetServiceSetting, UpdateServiceSetting and ResetServiceSetting to moto's SSM.

    Idempotent. State lives on each account/Region backend, as AWS keeps it per Region.
    """
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult, EmptyResult
    from moto.ssm.responses import SimpleSystemManagerResponse
    from moto.utilities.utils import get_partition

    class ServiceSettingNotFound(ServiceException):
        code = "ServiceSettingNotFound"

    def stored(response: Any) -> dict[str, dict[str, Any]]:
        backend = response.ssm_backend
        if not hasattr(backend, _SETTINGS_ATTRIBUTE):
            setattr(backend, _SETTINGS_ATTRIBUTE, {})
        return getattr(backend, _SETTINGS_ATTRIBUTE)

    def described(response: Any, path: str) -> dict[str, Any]:
        if path not in SERVICE_SETTING_IDS:
            raise ServiceSettingNotFound(f"The service setting {path} wasn't found.")
        row = stored(response).get(path, {"value": "", "status": "Default", "user": "System", "date": None})
        arn = f"arn:{get_partition(response.region)}:ssm:{response.region}:{response.current_account}:servicesetting{path}"
        return {
            "SettingId": path,
            "SettingValue": row["value"],
            "LastModifiedDate": row["date"] or datetime(1970, 1, 1, tzinfo=UTC),
            "LastModifiedUser": row["user"],
            "ARN": arn,
            "Status": row["status"],
        }

    def get_service_setting(self: Any) -> ActionResult:
        return ActionResult({"ServiceSetting": described(self, setting_path(self._get_param("SettingId")))})

    def update_service_setting(self: Any) -> EmptyResult:
        path = setting_path(self._get_param("SettingId"))
        described(self, path)  # ServiceSettingNotFound for an unknown ID
        stored(self)[path] = {
            "value": self._get_param("SettingValue"),
            "status": "Customized",
            "user": f"arn:aws:iam::{self.current_account}:root",
            "date": datetime.now(UTC),
        }
        return EmptyResult()

    def reset_service_setting(self: Any) -> ActionResult:
        path = setting_path(self._get_param("SettingId"))
        described(self, path)
        stored(self).pop(path, None)
        return ActionResult({"ServiceSetting": described(self, path)})

    SimpleSystemManagerResponse.get_service_setting = get_service_setting  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.update_service_setting = update_service_setting  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.reset_service_setting = reset_service_setting  # type: ignore[attr-defined]


# -- gateway endpoints without a prefix list -----------------------------------------------
#
# Upstream note (moto 5.2.5, to be dropped when fixed upstream): CreateVpcEndpoint adds a route
# to each route table only when a managed prefix list carries the endpoint's service name, but
# DeleteVpcEndpoints always deletes that route, so deleting a gateway endpoint whose service
# has no prefix list in moto (S3 in the China Regions, for one) fails with InvalidRoute.NotFound
# ("no route with destination-cidr-block None"). With no route created, none is deleted here.


def install_gateway_endpoint_deletion() -> None:
    """Let DeleteVpcEndpoints delete a gateway endpoint for which moto created no route. Idempotent."""
    from moto.ec2.models.vpcs import VPCBackend

    original = VPCBackend.delete_vpc_endpoints
    if getattr(original, "_ssm_profile", False):
        return

    def delete_vpc_endpoints(self: Any, vpce_ids: list[str] | None = None) -> None:
        routed = []
        for vpce_id in vpce_ids or []:
            endpoint = self.vpc_end_points.get(vpce_id)
            if endpoint is not None and endpoint.vpc_endpoint_type.lower() != "interface" and not endpoint.destination_prefix_list_id:
                endpoint.state = "deleted"
            else:
                routed.append(vpce_id)
        original(self, routed)

    delete_vpc_endpoints._ssm_profile = True  # type: ignore[attr-defined]
    VPCBackend.delete_vpc_endpoints = delete_vpc_endpoints  # type: ignore[method-assign]


# -- the server process -------------------------------------------------------------------

LOOPBACK = "127.0.0.1"
READY_PREFIX = "ssm-profile-emulator listening on "


def _exit_with_parent(parent: int) -> None:
    """Exit as soon as the process that started us is gone (reparented), whatever killed it."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def serve() -> None:
    """Serve moto on an ephemeral loopback port until terminated; print the port first."""
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    install_service_settings()
    install_gateway_endpoint_deletion()
    server = make_server(LOOPBACK, 0, DomainDispatcherApplication(create_backend_app), threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    print(f"{READY_PREFIX}{LOOPBACK}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    serve()
