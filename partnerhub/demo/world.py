"""Demo data: a deterministic world for trying the product, and bulk customers for benchmarks.

`demo_world_build` goes through the real services where they exist (``customer_org_create``,
``user_create``, ``relationship_grant``, ``subscription_create``, ``activity_record``) and plain
ORM for what has no service yet (consent requests, shipments, calling data, the deletion mark).
Every date is relative to ``today``, so each status of P1/P3 and each stage of the D countdown
holds on the day the world is built. A fixed random seed makes it the same world every time.

Bulk customers for benchmarks (``seed_demo --customers N``) are ``partnerhub.demo.bulk``.

The demo app sits on top of the dependency graph, so this module may import every app.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

from django.contrib.auth.hashers import make_password
from django.db import transaction

from customers.choices import ActivityKind
from customers.models import DeletionHold
from customers.services import activity_record
from licensing.choices import (
    MeetingsEdition,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.lifecycle import period_end_date
from licensing.models import (
    AutoLicenseTemplate,
    CallingProfile,
    License,
    PhoneNumber,
    Service,
    Subscription,
)
from licensing.readmodel import customer_rows_rebuild
from licensing.services import ServiceSpec, subscription_create
from partnerhub.accounts.choices import (
    ContentKind,
    OrgKind,
    PartnerAccess,
    PartnerTier,
    Role,
    Vertical,
)
from partnerhub.accounts.lifecycle import region_for_country
from partnerhub.accounts.models import (
    ContentItem,
    Membership,
    Organization,
    User,
)
from partnerhub.accounts.services import customer_org_create, relationship_grant, user_create
from partnerhub.core.clock import business_today
from trials.choices import ConsentStatus, DeviceType, ExtensionStatus
from trials.lifecycle import consent_expires_at, device_return_due, device_trial_cap
from trials.models import ConsentRequest, Device, DeviceShipment, ExtensionRequest

DEMO_PASSWORD = "demo-pass-2026"
DEMO_SEED = 2026
SUPPORT_EMAIL = "support@partnerhub.example"

NORTHWIND = "Northwind Partners"
CONTOSO = "Contoso Resellers"
TAILSPIN = "Tailspin Networks"

# (name, tier, certified, country, email domain)
PARTNERS: tuple[tuple[str, int, bool, str, str], ...] = (
    (NORTHWIND, PartnerTier.TIER_1, True, "US", "northwind.example"),
    (CONTOSO, PartnerTier.TIER_2, True, "GB", "contoso.example"),
    # Not certified: shows that only certified partners use the hub.
    (TAILSPIN, PartnerTier.TIER_1, False, "DK", "tailspin.example"),
)
# Every partner role, one person each (T1).
PARTNER_PEOPLE: tuple[tuple[str, str, str, str], ...] = (
    ("admin", Role.PARTNER_FULL_ADMIN, "Pat", "Admin"),
    ("salesfull", Role.SALES_FULL_ADMIN, "Sal", "Fuller"),
    ("sales", Role.SALES_ADMIN, "Sam", "Seller"),
    ("readonly", Role.PARTNER_READ_ONLY, "Rae", "Reader"),
)

FIRST_NAMES = (  # noqa: SIM905
    "Ada Alan Anna Ben Carla Dan Eva Finn Grace Hugo Ines Jon Kim Lea Max Nina Omar Pia Raj Sara "
    "Tom Uma Vera Will Yara Zoe"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Andersen Berg Costa Dahl Eriksen Fischer Garcia Hansen Ito Jensen Kowalski Larsen Moreau "
    "Nielsen Olsen Petit Rossi Silva Tanaka Novak Weber Young"
).split()


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    org: str


@dataclass
class DemoWorld:
    """What `demo_world_build` made, for the command's report and for tests."""

    partners: dict[str, Organization] = field(default_factory=dict)
    customers: dict[str, Organization] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)


# --- The demo world ---------------------------------------------------------------------------


class _Builder:
    """Builds the world one customer at a time; ``base`` is 09:00 UTC of ``today`` so every
    instant is the same on each run of the same day."""

    def __init__(self, *, today: date, seed: int) -> None:
        self.today = today
        self.base = datetime.combine(today, dt_time(9, 0), tzinfo=UTC)
        self.rng = random.Random(seed)
        self.world = DemoWorld()
        self.user_ids: list[int] = []
        self.phone_seq = 0
        self.serial_seq = 0

    # Small helpers -----------------------------------------------------------------------
    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def at(self, days: float) -> datetime:
        return self.base + timedelta(days=days)

    def person(self, *, org: Organization | None, email: str, role: str | None) -> User:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        user = user_create(email=email, org=org, role=role, first_name=first, last_name=last)
        self.user_ids.append(user.pk)
        return user

    # Partners and staff ----------------------------------------------------------------------
    def partners(self) -> None:
        for name, tier, certified, country, domain in PARTNERS:
            org = Organization.objects.create(
                kind=OrgKind.PARTNER,
                name=name,
                country=country,
                data_region=region_for_country(country),
                partner_tier=tier,
                partner_certified=certified,
                created=self.at(-900),
                last_activity_at=self.at(-0.5),
            )
            self.world.partners[name] = org
            for local, role, first, last in PARTNER_PEOPLE:
                user = user_create(
                    email=f"{local}@{domain}", org=org, role=role, first_name=first, last_name=last
                )
                self.user_ids.append(user.pk)

    def support(self) -> None:
        staff = User.objects.create_superuser(
            email=SUPPORT_EMAIL, password=None, first_name="Sue", last_name="Support"
        )
        self.user_ids.append(staff.pk)

    # Customers --------------------------------------------------------------------------------
    def customer(
        self,
        name: str,
        *,
        domain: str,
        country: str,
        vertical: str,
        partner: str | None,
        access: str = PartnerAccess.FULL_ADMIN,
        created_days_ago: int = 400,
        read_only_admin: bool = True,
        users: int = 3,
        active_days_ago: float | None = 0.3,
    ) -> tuple[Organization, User, list[User]]:
        """An org with a full admin (``admin@domain``), maybe a read-only admin and plain users,
        on ``partner``'s list. Returns the org, its full admin and every person in it."""
        org = customer_org_create(
            name=name, country=country, vertical=vertical, created=self.at(-created_days_ago)
        )
        self.world.customers[name] = org
        if partner is not None:
            relationship_grant(partner=self.world.partners[partner], customer=org, access=access)
        admin = self.person(org=org, email=f"admin@{domain}", role=Role.CUSTOMER_FULL_ADMIN)
        people = [admin]
        if read_only_admin:
            people.append(
                self.person(org=org, email=f"readonly@{domain}", role=Role.CUSTOMER_READ_ONLY)
            )
        for i in range(users):
            first = self.rng.choice(FIRST_NAMES).lower()
            people.append(self.person(org=org, email=f"{first}.{i + 1}@{domain}", role=None))
        if active_days_ago is not None:
            # D5: recent use, through the real activity service.
            for i, user in enumerate(people[:3]):
                kind = (ActivityKind.CONTROL_HUB_SIGN_IN, ActivityKind.APP_SIGN_IN)[min(i, 1)]
                activity_record(user=user, kind=kind, at=self.at(-active_days_ago - i))
        return org, admin, people

    def sub(
        self,
        org: Organization,
        *,
        partner: str | None,
        kind: str,
        start: int,
        end: int,
        services: dict[str, tuple[int, str]],
        state: str = SubscriptionState.ACTIVE,
        reference: str = "",
        enterprise_site: str = "",
    ) -> Subscription:
        """A subscription from day ``start`` to day ``end`` (offsets from today). A suspended
        or ended one gets its S1 period end; provisioned services get a provisioned date."""
        specs = []
        for service_type, (quantity, status) in services.items():
            enterprise = service_type == ServiceType.MEETINGS and bool(enterprise_site)
            specs.append(
                ServiceSpec(
                    type=service_type,
                    quantity=quantity,
                    provisioning_status=status,
                    # T2: the enterprise edition needs a site URL and a time zone.
                    edition=MeetingsEdition.ENTERPRISE if enterprise else "",
                    site_url=enterprise_site if enterprise else "",
                    time_zone="Europe/Copenhagen" if enterprise else "",
                )
            )
        subscription = subscription_create(
            customer=org,
            partner=self.world.partners[partner] if partner else None,
            kind=kind,
            state=state,
            start_date=self.day(start),
            end_date=self.day(end),
            services=specs,
            reference=reference or f"DEMO-{org.pk:04d}-{Subscription.objects.count() + 1:03d}",
        )
        updates: dict[str, object] = {}
        if state in (SubscriptionState.SUSPENDED, SubscriptionState.ENDED):
            updates["period_end_date"] = period_end_date(kind=kind, end_date=self.day(end))
        if state == SubscriptionState.ENDED:
            period_end = period_end_date(kind=kind, end_date=self.day(end))
            updates["ended_at"] = datetime.combine(period_end, dt_time(2, 0), tzinfo=UTC)
        if updates:
            Subscription.objects.filter(pk=subscription.pk).update(**updates)
            for key, value in updates.items():
                setattr(subscription, key, value)
        subscription.services.filter(provisioning_status=ProvisioningStatus.PROVISIONED).update(
            provisioned_at=self.at(start + 1) if start < 0 else self.at(-0.2)
        )
        return subscription

    def provisioning_note(self, org: Organization, service_type: str, note: str) -> None:
        """P1: why a service failed, or what it waits for (the engine writes it in real life)."""
        Service.objects.filter(subscription__customer=org, type=service_type).update(
            provisioning_reason=note
        )

    def assign(self, users: list[User], subscription: Subscription, service_type: str) -> None:
        service = subscription.services.get(type=service_type)
        License.objects.bulk_create(
            License(user=u, service=service, service_type=service_type) for u in users
        )
        if service_type == ServiceType.CALLING:
            for user in users:
                self.calling_profile(user)

    def calling_profile(self, user: User) -> None:
        """C1: the user's calling data, with one number of the org assigned."""
        self.phone_seq += 1
        CallingProfile.objects.get_or_create(
            user=user,
            defaults={
                "extension": str(2000 + self.phone_seq),
                "voicemail_enabled": True,
                "voicemail_pin": "".join(self.rng.choice("0123456789") for _ in range(6)),
                "call_settings": {
                    "call_forwarding": self.rng.choice(["off", "busy", "always"]),
                    "do_not_disturb": False,
                    "ring_seconds": self.rng.choice([15, 20, 25]),
                },
            },
        )
        assert user.org is not None
        PhoneNumber.objects.create(org=user.org, number=f"+1555010{self.phone_seq:04d}", user=user)

    def content(self, org: Organization, people: list[User], count: int = 4) -> None:
        kinds = list(ContentKind)
        ContentItem.objects.bulk_create(
            ContentItem(
                org=org,
                author=people[i % len(people)],
                kind=kinds[i % len(kinds)],
                title=f"{kinds[i % len(kinds)].label} {i + 1}",
                created=self.at(-10 - i),
            )
            for i in range(count)
        )

    def mark(
        self,
        org: Organization,
        *,
        marked: float,
        warned: float | None = None,
    ) -> None:
        """D1: set the deletion mark (and the D3 warning) as the lifecycle would have."""
        Organization.objects.filter(pk=org.pk).update(
            deletion_marked_at=self.at(marked),
            deletion_warned_at=self.at(warned) if warned is not None else None,
        )
        org.refresh_from_db()

    def consent(
        self,
        *,
        trial: Subscription,
        partner: str,
        admin_email: str,
        requested: float,
        status: str = ConsentStatus.PENDING,
        grant_full_admin: bool = False,
    ) -> ConsentRequest:
        """T3: a consent request sent ``requested`` days from now (negative: in the past)."""
        requested_at = self.at(requested)
        domain = {p[0]: p[4] for p in PARTNERS}[partner]
        sales = User.objects.get(email=f"sales@{domain}")
        decided = status != ConsentStatus.PENDING
        return ConsentRequest.objects.create(
            trial=trial,
            partner=self.world.partners[partner],
            customer=trial.customer,
            admin_email=admin_email,
            status=status,
            requested_by=sales,
            requested_at=requested_at,
            last_sent_at=requested_at,
            expires_at=consent_expires_at(requested_at=requested_at),
            decided_at=self.at(requested + 1) if decided else None,
            decided_by=User.objects.get(email=admin_email) if decided else None,
            grant_full_admin=grant_full_admin,
        )

    def shipment(
        self, trial: Subscription, device_type: str, quantity: int, *, returned: int = 0
    ) -> DeviceShipment:
        """T2/T14: one shipment per device type, each device tracked by serial number."""
        shipment = DeviceShipment.objects.create(
            trial=trial,
            device_type=device_type,
            quantity=quantity,
            shipped_at=datetime.combine(trial.start_date, dt_time(12, 0), tzinfo=UTC),
            agreement_end_date=trial.end_date,
            return_due_date=device_return_due(agreement_end_date=trial.end_date),
        )
        devices = []
        for i in range(quantity):
            self.serial_seq += 1
            devices.append(
                Device(
                    shipment=shipment,
                    serial_number=f"DEMO-{device_type[:3].upper()}-{self.serial_seq:05d}",
                    returned_at=self.at(-1) if i < returned else None,
                )
            )
        Device.objects.bulk_create(devices)
        return shipment

    def set_passwords(self) -> None:
        # Hash once: every demo login shares one password (hashing each would take minutes).
        User.objects.filter(pk__in=self.user_ids).update(password=make_password(DEMO_PASSWORD))


P, T = SubscriptionKind.PAID, SubscriptionKind.TRIAL
PS = ProvisioningStatus
ST = SubscriptionState
MEET, MSG, CALL, DEV = (
    ServiceType.MEETINGS,
    ServiceType.MESSAGING,
    ServiceType.CALLING,
    ServiceType.DEVICES,
)
OK = PS.PROVISIONED


def _customers(b: _Builder) -> None:
    """About 30 customers; the comment on each says which status or stage it shows."""
    # P3 Active, P2 Provisioned; C: two Calling subscriptions to move users between; C5 template.
    org, admin, people = b.customer(
        "Litware Inc",
        domain="litware.example",
        country="US",
        vertical=Vertical.TECHNOLOGY,
        partner=NORTHWIND,
        users=10,
    )
    main = b.sub(
        org,
        partner=NORTHWIND,
        kind=P,
        start=-200,
        end=165,
        services={MEET: (25, OK), MSG: (25, OK), CALL: (15, OK)},
        enterprise_site="litware.meetings.example",
    )
    # C5 succeeds here: the second Calling subscription has room for every user (12), so the
    # template can move them all onto it with "keep existing users' licenses" unticked.
    second = b.sub(org, partner=NORTHWIND, kind=P, start=-30, end=335, services={CALL: (15, OK)})
    b.assign(people, main, MEET)
    b.assign(people, main, MSG)
    b.assign(people[:7], main, CALL)
    b.assign(people[7:10], second, CALL)
    for i in range(3):  # unassigned numbers of the org
        PhoneNumber.objects.create(org=org, number=f"+15550200{i:03d}", subscription=main)
    template = AutoLicenseTemplate.objects.create(org=org, keep_existing_licenses=True)
    template.services.set(main.services.filter(type__in=[MEET, MSG, CALL]))
    b.content(org, people, count=8)

    # P3 Expiring within 30 days.
    org, _, people = b.customer(
        "Adventure Works Cycles",
        domain="adventure-works.example",
        country="US",
        vertical=Vertical.RETAIL,
        partner=NORTHWIND,
    )
    sub = b.sub(org, partner=NORTHWIND, kind=P, start=-345, end=20, services={MSG: (10, OK)})
    b.assign(people, sub, MSG)

    # P3 Expiring within 60 days; P2 Provisioning.
    org, _, _ = b.customer(
        "Alpine Ski House",
        domain="alpineskihouse.example",
        country="CH",
        vertical=Vertical.HOSPITALITY,
        partner=NORTHWIND,
    )
    b.sub(
        org,
        partner=NORTHWIND,
        kind=P,
        start=-320,
        end=45,
        services={MEET: (10, OK), CALL: (10, PS.PROVISIONING)},
    )

    # T3 pending consent on an org another partner sells to: P2 Trial pending customer consent.
    org, admin, _ = b.customer(
        "Blue Yonder Airlines",
        domain="blueyonder.example",
        country="GB",
        vertical=Vertical.TRANSPORT,
        partner=CONTOSO,
    )
    b.sub(org, partner=CONTOSO, kind=P, start=-100, end=265, services={MSG: (40, OK)})
    # No relationship yet: the pending request alone puts it on Northwind's list (T3).
    trial = b.sub(
        org,
        partner=NORTHWIND,
        kind=T,
        state=ST.PENDING,
        start=0,
        end=60,
        services={CALL: (10, PS.PENDING_CONSENT), MEET: (10, PS.PENDING_CONSENT)},
    )
    b.consent(trial=trial, partner=NORTHWIND, admin_email=admin.email, requested=-3)

    # P3 Trial active.
    org, _, people = b.customer(
        "Coho Winery",
        domain="cohowinery.example",
        country="FR",
        vertical=Vertical.HOSPITALITY,
        partner=NORTHWIND,
    )
    sub = b.sub(
        org, partner=NORTHWIND, kind=T, start=-15, end=75, services={MEET: (5, OK), MSG: (5, OK)}
    )
    b.assign(people, sub, MSG)

    # P3 Trial expiring within 30 days.
    org, _, people = b.customer(
        "Consolidated Messenger",
        domain="consolidatedmessenger.example",
        country="DE",
        vertical=Vertical.TELECOM,
        partner=NORTHWIND,
    )
    sub = b.sub(
        org, partner=NORTHWIND, kind=T, start=-55, end=5, services={MSG: (8, OK), CALL: (4, OK)}
    )
    b.assign(people[:2], sub, CALL)

    # P3 Trial expiring within 60 days; P2 Awaiting provisioning details.
    org, _, _ = b.customer(
        "Fourth Coffee",
        domain="fourthcoffee.example",
        country="IT",
        vertical=Vertical.RETAIL,
        partner=NORTHWIND,
    )
    b.sub(
        org,
        partner=NORTHWIND,
        kind=T,
        start=-50,
        end=40,
        services={CALL: (10, PS.AWAITING_DETAILS), MSG: (10, OK)},
    )
    # P1: the vendor waits for a location; the customer admin enters it in Control Hub.
    b.provisioning_note(org, CALL, "A location and its emergency address for Calling.")

    # P3 Trial expired (in its 30-day grace, S1/T12); a Calling trial with numbers (T13).
    org, _, people = b.customer(
        "Graphic Design Institute",
        domain="graphicdesigninstitute.example",
        country="DK",
        vertical=Vertical.EDUCATION,
        partner=NORTHWIND,
    )
    trial = b.sub(
        org,
        partner=NORTHWIND,
        kind=T,
        state=ST.SUSPENDED,
        start=-65,
        end=-5,
        services={CALL: (5, OK), MSG: (5, OK)},
    )
    b.assign(people[:3], trial, CALL)
    PhoneNumber.objects.filter(org=org).update(subscription=trial)

    # P3 Cancelled (paid, in its 60-day renewal period, S1) beside an active one: its users
    # keep their Meetings licenses if the partner renews it before the deadline (S3).
    org, _, people = b.customer(
        "Humongous Insurance",
        domain="humongousinsurance.example",
        country="US",
        vertical=Vertical.FINANCE,
        partner=NORTHWIND,
    )
    suspended = b.sub(
        org,
        partner=NORTHWIND,
        kind=P,
        state=ST.SUSPENDED,
        start=-385,
        end=-20,
        services={MEET: (50, OK)},
    )
    b.assign(people[:5], suspended, MEET)
    b.sub(org, partner=NORTHWIND, kind=P, start=-20, end=345, services={MSG: (50, OK)})

    # Device trial with a pending extension request inside its 120-day cap (T7: every
    # extension is a request); its devices are in their return window (T14: the two weeks
    # before the agreement date fixed at shipment); P2 Manual provisioning (vendor).
    org, admin, people = b.customer(
        "Lucerne Publishing",
        domain="lucernepublishing.example",
        country="SE",
        vertical=Vertical.MEDIA,
        partner=NORTHWIND,
    )
    start = -80
    trial = b.sub(
        org,
        partner=NORTHWIND,
        kind=T,
        start=start,
        end=start + 90,
        services={DEV: (6, PS.MANUAL_VENDOR), CALL: (5, OK)},
    )
    b.shipment(trial, DeviceType.DESK_PHONE, 5, returned=1)
    b.shipment(trial, DeviceType.VIDEO_ROOM, 1)
    b.assign(people[:2], trial, CALL)
    ExtensionRequest.objects.create(
        trial=trial,
        requested_by=User.objects.get(email="sales@northwind.example"),
        requested_at=b.at(-1),
        requested_end_date=min(b.day(40), device_trial_cap(start_date=b.day(start))),
        reason="The customer is rolling out to a second office and needs the room device.",
        status=ExtensionStatus.PENDING,
    )

    # A younger device trial; P2 Manual provisioning (partner).
    org, _, _ = b.customer(
        "Margie's Travel",
        domain="margiestravel.example",
        country="AU",
        vertical=Vertical.HOSPITALITY,
        partner=NORTHWIND,
    )
    trial = b.sub(
        org,
        partner=NORTHWIND,
        kind=T,
        start=-20,
        end=60,
        services={DEV: (11, OK), MSG: (10, PS.MANUAL_PARTNER)},
    )
    b.shipment(trial, DeviceType.HEADSET, 10)
    b.shipment(trial, DeviceType.BOARD, 1)

    # P2 Provisioning failed.
    org, _, _ = b.customer(
        "Proseware Inc",
        domain="proseware.example",
        country="NL",
        vertical=Vertical.TECHNOLOGY,
        partner=NORTHWIND,
    )
    b.sub(
        org,
        partner=NORTHWIND,
        kind=P,
        start=-3,
        end=362,
        services={MEET: (20, PS.FAILED), MSG: (20, OK)},
    )
    # P1: the partner sees why, and retries from the customer page.
    b.provisioning_note(org, MEET, "The vendor could not set up Meetings for this organization.")

    # T3 consent asked of a read-only admin: goes to them and every full admin; bought directly.
    org, _, people = b.customer(
        "School of Fine Art",
        domain="fineartschool.example",
        country="NO",
        vertical=Vertical.EDUCATION,
        partner=None,
    )
    b.sub(org, partner=None, kind=P, start=-200, end=165, services={MSG: (30, OK)})
    # No relationship yet: the pending request alone puts it on Northwind's list (T3).
    trial = b.sub(
        org,
        partner=NORTHWIND,
        kind=T,
        state=ST.PENDING,
        start=0,
        end=30,
        services={MEET: (30, PS.PENDING_CONSENT)},
    )
    b.consent(trial=trial, partner=NORTHWIND, admin_email=people[1].email, requested=-8)

    # Consent unanswered for 10 days: due to be cancelled (T3).
    org, _, _ = b.customer(
        "Nod Publishers",
        domain="nodpublishers.example",
        country="NZ",
        vertical=Vertical.MEDIA,
        partner=None,
    )
    b.sub(org, partner=None, kind=P, start=-50, end=315, services={MSG: (10, OK)})
    # No relationship yet: the pending request alone puts it on Northwind's list (T3).
    trial = b.sub(
        org,
        partner=NORTHWIND,
        kind=T,
        state=ST.PENDING,
        start=-11,
        end=19,
        services={MEET: (5, PS.PENDING_CONSENT)},
    )
    b.consent(
        trial=trial, partner=NORTHWIND, admin_email="admin@nodpublishers.example", requested=-11
    )

    # P2 Manual provisioning (vendor) on a paid subscription.
    org, _, _ = b.customer(
        "Southridge Video",
        domain="southridgevideo.example",
        country="CA",
        vertical=Vertical.MEDIA,
        partner=NORTHWIND,
    )
    b.sub(
        org,
        partner=NORTHWIND,
        kind=P,
        start=-90,
        end=275,
        services={CALL: (15, PS.MANUAL_VENDOR), MEET: (15, OK)},
    )

    # T9: a trial converted to paid; usage data kept.
    org, _, _ = b.customer(
        "A. Datum Corporation",
        domain="adatum.example",
        country="JP",
        vertical=Vertical.PROFESSIONAL_SERVICES,
        partner=NORTHWIND,
    )
    trial = b.sub(
        org,
        partner=NORTHWIND,
        kind=T,
        state=ST.CONVERTED,
        start=-80,
        end=-20,
        services={MEET: (10, OK)},
    )
    paid = b.sub(org, partner=NORTHWIND, kind=P, start=-25, end=340, services={MEET: (25, OK)})
    Subscription.objects.filter(pk=paid.pk).update(converted_from=trial)

    # T5: a paid customer with a trial added on top.
    org, _, _ = b.customer(
        "Bellows College",
        domain="bellowscollege.example",
        country="US",
        vertical=Vertical.EDUCATION,
        partner=NORTHWIND,
    )
    b.sub(org, partner=NORTHWIND, kind=P, start=-150, end=215, services={MEET: (100, OK)})
    b.sub(org, partner=NORTHWIND, kind=T, start=-2, end=88, services={CALL: (20, OK)})

    # S1 due: a paid subscription whose last day was yesterday, not yet suspended by the tick.
    org, _, _ = b.customer(
        "Best For You Organics",
        domain="bestforyou.example",
        country="MX",
        vertical=Vertical.RETAIL,
        partner=NORTHWIND,
    )
    b.sub(org, partner=NORTHWIND, kind=P, start=-366, end=-1, services={MSG: (12, OK)})

    # D countdown, one org at each stage; none holds licenses (only ended subscriptions).
    _deletion_stages(b)

    # Contoso (tier 2) customers.
    org, _, people = b.customer(
        "Woodgrove Bank",
        domain="woodgrovebank.example",
        country="US",
        vertical=Vertical.FINANCE,
        partner=CONTOSO,
        users=12,
    )
    sub = b.sub(
        org, partner=CONTOSO, kind=P, start=-500, end=230, services={MEET: (60, OK), MSG: (60, OK)}
    )
    b.assign(people, sub, MSG)
    b.content(org, people, count=5)

    org, _, people = b.customer(
        "Contoso Pharmaceuticals",
        domain="contosopharma.example",
        country="DE",
        vertical=Vertical.HEALTHCARE,
        partner=CONTOSO,
    )
    sub = b.sub(
        org, partner=CONTOSO, kind=P, start=-60, end=305, services={CALL: (10, OK), MSG: (10, OK)}
    )
    b.assign(people[:4], sub, CALL)

    # T3 accepted without full access: the partner is a provisioning admin; P2 awaiting details.
    org, admin, _ = b.customer(
        "Fabrikam Residences",
        domain="fabrikamresidences.example",
        country="ES",
        vertical=Vertical.HOSPITALITY,
        partner=CONTOSO,
        access=PartnerAccess.PROVISIONING_ADMIN,
    )
    trial = b.sub(
        org,
        partner=CONTOSO,
        kind=T,
        start=-4,
        end=56,
        services={MEET: (15, PS.AWAITING_DETAILS)},
    )
    b.consent(
        trial=trial,
        partner=CONTOSO,
        admin_email=admin.email,
        requested=-6,
        status=ConsentStatus.ACCEPTED,
    )

    org, _, _ = b.customer(
        "First Up Consultants",
        domain="firstupconsultants.example",
        country="SG",
        vertical=Vertical.PROFESSIONAL_SERVICES,
        partner=CONTOSO,
    )
    b.sub(
        org,
        partner=CONTOSO,
        kind=P,
        start=-340,
        end=25,
        services={MEET: (30, PS.MANUAL_PARTNER), MSG: (30, OK)},
    )

    # T11: the trial ends in 7 days, so the "ending soon" notice is due today.
    org, _, _ = b.customer(
        "Relecloud",
        domain="relecloud.example",
        country="IN",
        vertical=Vertical.TECHNOLOGY,
        partner=CONTOSO,
    )
    b.sub(org, partner=CONTOSO, kind=T, start=-23, end=7, services={MSG: (25, OK)})

    org, _, _ = b.customer(
        "Fabrikam Fiber",
        domain="fabrikamfiber.example",
        country="IE",
        vertical=Vertical.TELECOM,
        partner=CONTOSO,
    )
    # P1: provisioning; when the worker runs, Messaging is provisioned and Calling waits for a
    # location entered in Control Hub.
    b.sub(
        org,
        partner=CONTOSO,
        kind=T,
        start=-10,
        end=20,
        services={MSG: (5, PS.PROVISIONING), CALL: (5, PS.PROVISIONING)},
    )

    # The uncertified partner's one customer.
    org, _, _ = b.customer(
        "VanArsdel Ltd",
        domain="vanarsdel.example",
        country="BR",
        vertical=Vertical.MANUFACTURING,
        partner=TAILSPIN,
    )
    b.sub(org, partner=TAILSPIN, kind=P, start=-30, end=335, services={MSG: (20, OK)})


def _deletion_stages(b: _Builder) -> None:
    """D1–D5: one marked org at each stage of the countdown, with full admins to warn (D3)."""

    def unused(name: str, domain: str, *, partner: str, last_active: float) -> Organization:
        org, _, people = b.customer(
            name,
            domain=domain,
            country="US" if "Woodgrove" in name else "GB",
            vertical=Vertical.FINANCE if "Woodgrove" in name else Vertical.RETAIL,
            partner=partner,
            created_days_ago=500,
            active_days_ago=None,
        )
        # Only an ended trial (S2): no licenses left, so D1 applies.
        b.sub(
            org,
            partner=partner,
            kind=T,
            state=ST.ENDED,
            start=-200,
            end=-140,
            services={MEET: (5, OK)},
        )
        b.content(org, people, count=3)
        activity_record(user=people[-1], kind=ActivityKind.MESSAGE, at=b.at(last_active))
        return org

    # Marked five days ago; nobody has used it since.
    org = unused("Tailwind Traders", "tailwindtraders.example", partner=NORTHWIND, last_active=-20)
    b.mark(org, marked=-5)
    # Marked 45 days ago, last activity 31 days ago: the D3 warning is due.
    org = unused(
        "Wide World Importers", "wideworldimporters.example", partner=NORTHWIND, last_active=-31
    )
    b.mark(org, marked=-45)
    # Warned 10 days ago (deletion in 20 days).
    org = unused("Wingtip Toys", "wingtiptoys.example", partner=NORTHWIND, last_active=-50)
    b.mark(org, marked=-70, warned=-10)
    # Warned 31 days ago with no activity since: deletion is due (D4). W2: shares the first five
    # letters and the email domain with the live "Woodgrove Bank".
    org = unused("Woodgrove Bank Trial", "woodgrove.example", partner=CONTOSO, last_active=-75)
    b.mark(org, marked=-100, warned=-31)
    # A batch the safety limit held back at last night's tick, for support staff to try the
    # release on in the console (as if the limit had been set to 0 that night).
    tick_at = b.at(-0.3)
    DeletionHold.objects.create(
        created_at=tick_at, tick_at=tick_at, due_count=1, limit=0, org_ids=[org.pk]
    )
    # Warned, then a user signed in: the warning is void and the countdown restarts (D5).
    org = unused("Trey Research", "treyresearch.example", partner=NORTHWIND, last_active=-60)
    b.mark(org, marked=-90, warned=-15)
    activity_record(
        user=User.objects.get(email="admin@treyresearch.example"),
        kind=ActivityKind.CONTROL_HUB_SIGN_IN,
        at=b.at(-2),
    )


@transaction.atomic
def demo_world_build(*, today: date | None = None, seed: int = DEMO_SEED) -> DemoWorld:
    """Build the demo world as of ``today`` (default: the local date). Same seed, same world."""
    builder = _Builder(today=today or business_today(), seed=seed)
    builder.partners()
    builder.support()
    _customers(builder)
    builder.set_passwords()
    builder.world.logins = demo_logins()
    customer_rows_rebuild(today=builder.today)
    return builder.world


def demo_world_exists() -> bool:
    return Organization.objects.filter(kind=OrgKind.PARTNER, name=NORTHWIND).exists()


# Customer logins worth trying, with what each shows.
CUSTOMER_LOGINS: tuple[tuple[str, str], ...] = (
    ("admin@litware.example", "Customer full admin (two Calling subscriptions, C)"),
    ("readonly@litware.example", "Customer read-only admin"),
    ("admin@blueyonder.example", "Customer full admin (trial consent waiting, T3)"),
    ("admin@lucernepublishing.example", "Customer full admin (device trial, T7/T14)"),
    ("admin@wingtiptoys.example", "Customer full admin (org warned of deletion, D3)"),
)


def demo_logins() -> list[DemoLogin]:
    """The logins worth trying, read back from the database (also for ``--if-empty`` reruns)."""
    logins: list[DemoLogin] = []
    staff = User.objects.filter(email=SUPPORT_EMAIL).first()
    if staff is not None:
        logins.append(DemoLogin(staff.email, "Support staff (superuser, Django admin)", "—"))
    notes = {f"{local}@{domain}": "" for *_, domain in PARTNERS for local, *_ in PARTNER_PEOPLE}
    notes.update(CUSTOMER_LOGINS)
    memberships = {
        m.user.email: m
        for m in Membership.objects.select_related("user", "org").filter(user__email__in=notes)
    }
    for email, note in notes.items():
        m = memberships.get(email)
        if m is not None:
            logins.append(DemoLogin(email, note or m.get_role_display(), m.org.name))
    return logins


__all__ = [
    "DEMO_PASSWORD",
    "DemoLogin",
    "DemoWorld",
    "demo_logins",
    "demo_world_build",
    "demo_world_exists",
]
