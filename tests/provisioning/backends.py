"""Backends standing in for a misbehaving vendor (the outside world), named in settings by the
tests exactly as a deployment would name a real one."""

from __future__ import annotations

import time

from licensing.provisioning import (
    EmbeddedVendorBackend,
    ProvisioningRequest,
    ProvisioningResult,
)

vendor_calls: list[int] = []


class RaisingBackend:
    def provision(self, request: ProvisioningRequest) -> ProvisioningResult:
        vendor_calls.append(request.service_id)
        raise ConnectionError("vendor API returned 503")


class HangingBackend:
    def provision(self, request: ProvisioningRequest) -> ProvisioningResult:
        vendor_calls.append(request.service_id)
        time.sleep(3)
        return ProvisioningResult.provisioned()


class CountingBackend(EmbeddedVendorBackend):
    """The embedded vendor, counting its calls; ``during`` runs inside the vendor call (what a
    second worker does at that very moment)."""

    during = None

    def provision(self, request: ProvisioningRequest) -> ProvisioningResult:
        vendor_calls.append(request.service_id)
        if CountingBackend.during is not None:
            CountingBackend.during(request)
        return super().provision(request)
