"""Shapes of the API's requests and answers, for the schema and for output.

Input is checked by the same Django forms as the pages (``api.views`` turns JSON into form
data); these serializers describe it and check only JSON types. Output serializers read the
rows the selectors already shaped.
"""

from __future__ import annotations

from rest_framework import serializers

from licensing.choices import (
    MeetingsEdition,
    OrderStatus,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
    SubscriptionStatus,
)
from partnerhub.accounts.choices import Country, DataRegion, Vertical
from trials.choices import ConsentStatus, DeviceType, ExtensionStatus, TrialLength


# ---- problems (RFC 9457) -------------------------------------------------------------------
class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)
    errors = FieldErrorSerializer(many=True, required=False)


# ---- customers -----------------------------------------------------------------------------
class ServiceOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    type = serializers.ChoiceField(choices=ServiceType.choices)
    quantity = serializers.IntegerField()
    provisioning_status = serializers.ChoiceField(choices=ProvisioningStatus.choices)
    provisioning_reason = serializers.CharField()


class SubscriptionOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="subscription.pk")
    kind = serializers.ChoiceField(choices=SubscriptionKind.choices, source="subscription.kind")
    state = serializers.ChoiceField(choices=SubscriptionState.choices, source="subscription.state")
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices, allow_null=True)
    provisioning_status = serializers.ChoiceField(
        choices=ProvisioningStatus.choices, allow_null=True
    )
    start_date = serializers.DateField(source="subscription.start_date", allow_null=True)
    end_date = serializers.DateField(source="subscription.end_date", allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    services = ServiceOutSerializer(many=True)


class CustomerOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    country = serializers.ChoiceField(choices=Country.choices)
    data_region = serializers.ChoiceField(choices=DataRegion.choices)
    provisioning_status = serializers.ChoiceField(
        choices=ProvisioningStatus.choices, allow_null=True
    )
    service_types = serializers.ListField(child=serializers.ChoiceField(ServiceType.choices))
    admins = serializers.ListField(child=serializers.EmailField())
    marked_for_deletion_at = serializers.DateTimeField(source="deletion_marked_at", allow_null=True)
    planned_deletion_at = serializers.DateTimeField(allow_null=True)
    subscriptions = SubscriptionOutSerializer(many=True, source="subscription_rows")


class CustomerPageSerializer(serializers.Serializer):
    results = CustomerOutSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="Cursor of the next page, or null.")
    previous = serializers.CharField(allow_null=True)


class ConsentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=ConsentStatus.choices)
    admin_email = serializers.EmailField()
    requested_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class ExtensionRequestOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    trial_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ExtensionStatus.choices)
    requested_end_date = serializers.DateField()
    requested_at = serializers.DateTimeField()


class CustomerDetailSerializer(CustomerOutSerializer):
    consent_requests = ConsentOutSerializer(many=True)
    extension_requests = ExtensionRequestOutSerializer(many=True)


# ---- trials --------------------------------------------------------------------------------
class DeviceLineSerializer(serializers.Serializer):
    device_type = serializers.ChoiceField(choices=DeviceType.choices)
    quantity = serializers.IntegerField(min_value=1, max_value=500)


class OfferSerializer(serializers.Serializer):
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=ServiceType.choices), max_length=4
    )
    licenses = serializers.IntegerField(
        min_value=1, max_value=10000, default=25, help_text="Licenses of each licensed service."
    )
    service_licenses = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=10000),
        required=False,
        help_text='Licenses per service, e.g. {"calling": 10}; overrides `licenses`.',
    )
    meetings_edition = serializers.ChoiceField(
        choices=MeetingsEdition.choices, default=MeetingsEdition.STANDARD
    )
    site_url = serializers.CharField(required=False, allow_blank=True, max_length=200)
    time_zone = serializers.CharField(required=False, allow_blank=True, max_length=64)
    device_lines = DeviceLineSerializer(many=True, required=False, max_length=6)


class TrialLengthSerializer(serializers.Serializer):
    length = serializers.ChoiceField(choices=TrialLength.choices, default=TrialLength.DAYS_30)


class TrialStartSerializer(OfferSerializer, TrialLengthSerializer):
    company_name = serializers.CharField(max_length=200)
    admin_email = serializers.EmailField()
    vertical = serializers.ChoiceField(choices=Vertical.choices)
    country = serializers.ChoiceField(choices=Country.choices)


class TrialRequestSerializer(OfferSerializer, TrialLengthSerializer):
    admin_email = serializers.EmailField()


class TrialServicesSerializer(OfferSerializer):
    pass


class TrialOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    customer_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=SubscriptionState.choices)
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    services = ServiceOutSerializer(many=True, source="services.all")


class TrialExtendSerializer(serializers.Serializer):
    days = serializers.ChoiceField(choices=TrialLength.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TrialExtendOutSerializer(serializers.Serializer):
    end_date = serializers.DateField()
    extension_request = ExtensionRequestOutSerializer(allow_null=True)


class ConsentResendOutSerializer(serializers.Serializer):
    emails_sent = serializers.IntegerField()


# ---- orders --------------------------------------------------------------------------------
class OrderLineSerializer(serializers.Serializer):
    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class OrderPlaceSerializer(serializers.Serializer):
    lines = OrderLineSerializer(many=True, min_length=1, max_length=4)
    provisioning_contact_email = serializers.EmailField()
    term_months = serializers.IntegerField(min_value=1, max_value=60, default=12)
    trial_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="Convert this trial (T9); omit for a new order."
    )


class OrderOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    trial_id = serializers.IntegerField(allow_null=True)
    customer_id = serializers.IntegerField(allow_null=True)
    subscription_id = serializers.IntegerField(allow_null=True)
    placed_at = serializers.DateTimeField()
    link_state = serializers.ChoiceField(
        choices=[("unused", "unused"), ("used", "used"), ("expired", "expired"), ("none", "none")]
    )
    link_expires_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    lines = OrderLineSerializer(many=True, source="lines.all")


# ---- audit ---------------------------------------------------------------------------------
class AuditOutSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    org_id = serializers.IntegerField(source="org_id_value", allow_null=True)
    org_name = serializers.CharField()
    target = serializers.CharField()
    details = serializers.DictField()


class AuditPageSerializer(serializers.Serializer):
    results = AuditOutSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


# ---- Control Hub ---------------------------------------------------------------------------
class LicenseOutSerializer(serializers.Serializer):
    service_id = serializers.IntegerField()
    service_type = serializers.ChoiceField(choices=ServiceType.choices, source="service.type")
    subscription_id = serializers.IntegerField(source="service.subscription_id")


class UserOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.CharField(source="org_role", allow_null=True)
    licenses = LicenseOutSerializer(many=True, source="licenses.all")


class UserPageSerializer(serializers.Serializer):
    results = UserOutSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


class LicenseSetSerializer(serializers.Serializer):
    service_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=100, allow_empty=True
    )
    confirm_calling_loss = serializers.BooleanField(
        default=False,
        help_text="Removing Calling without moving it deletes the user's calling data: say so.",
    )


class LicenseChangeOutSerializer(serializers.Serializer):
    changed = serializers.BooleanField()
    calling_moved = serializers.BooleanField()
    calling_lost = serializers.BooleanField()


class BulkRowSerializer(serializers.Serializer):
    email = serializers.EmailField()
    service_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=100, allow_empty=True
    )


class LicenseBulkSerializer(serializers.Serializer):
    rows = BulkRowSerializer(many=True, min_length=1, max_length=10000)
    confirm_calling_loss = serializers.BooleanField(default=False)


class LicenseBulkOutSerializer(serializers.Serializer):
    users_changed = serializers.IntegerField()


# ---- activity ------------------------------------------------------------------------------
class ActivityOutSerializer(serializers.Serializer):
    recorded = serializers.IntegerField()
    ignored = serializers.IntegerField()


# ---- notifications -------------------------------------------------------------------------
class NotificationOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    text = serializers.CharField()
    customer_id = serializers.IntegerField(source="customer_id_value", allow_null=True)
    customer_name = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationPageSerializer(serializers.Serializer):
    results = NotificationOutSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
