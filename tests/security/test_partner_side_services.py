"""The partner side's decision is asked again by the services: a read-only admin, another
partner's sales admin or a non-certified partner's user cannot act on a service of a
partner's subscription from a shell or a task (T1, P1)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from licensing.choices import ProvisioningStatus, ServiceType
from licensing.provisioning import service_manual_done
from partnerhub.accounts.access import PartnerAction, partner_may
from partnerhub.accounts.choices import Role
from tests.factories import make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


def test_service_actions_ask_the_partner_side_decision_again():
    north = make_partner(name="Northwind")
    contoso = make_partner(name="Contoso")
    tailspin = make_partner(name="Tailspin", certified=False)
    org = make_customer(name="Litware", partner=north)
    sub = make_subscription(
        customer=org,
        partner=north,
        services={ServiceType.MESSAGING: 5},
        status=ProvisioningStatus.MANUAL_PARTNER,
    )
    service = sub.services.get()
    refused = [
        make_user(org=north, role=Role.PARTNER_READ_ONLY),
        make_user(org=contoso, role=Role.SALES_ADMIN),
        make_user(org=tailspin, role=Role.SALES_ADMIN),
    ]
    for actor in refused:
        with pytest.raises(PermissionDenied):
            service_manual_done(service=service, actor=actor)
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.MANUAL_PARTNER
    seller = make_user(org=north, role=Role.SALES_ADMIN)
    assert partner_may(seller, PartnerAction.RUN_TRIALS)
    service_manual_done(service=service, actor=seller)
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.PROVISIONED
