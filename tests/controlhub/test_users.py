"""Control Hub user management: add, invite (and accept), bulk add by CSV, change role,
deactivate and reactivate; the last full admin is kept; only full admins change, read-only
admins see; another org's users are a 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from customers.lifecycle import INVITATION_VALID_DAYS
from customers.models import UserInvitation
from customers.user_services import (
    UserChangeRefused,
    invitation_send,
    org_user_deactivate,
    org_user_role_set,
)
from licensing.calling import license_template_save
from licensing.choices import ServiceType
from licensing.models import License
from partnerhub.accounts.choices import Role
from partnerhub.accounts.language import recipient_locales
from partnerhub.accounts.models import AuditEntry, Membership, User
from partnerhub.core.models import OutboxEmail
from tests.factories import (
    PASSWORD,
    listed_facts_changed,
    make_customer,
    make_partner,
    make_user,
)

pytestmark = pytest.mark.django_db

RULE_ID = re.compile(r"\b[DSPTWC]\d+\b")


def url(name, org, **kw):
    return reverse(f"controlhub:{name}", kwargs={"org_pk": org.pk, **kw})


def role_of(user):
    return Membership.objects.filter(user=user).values_list("role", flat=True).first() or Role.USER


def invite_path(email: OutboxEmail) -> str:
    match = re.search(r"http://testserver(/control-hub/\d+/invitation/[^/\s\"]+/)", email.body_text)
    assert match, email.body_text
    return match.group(1)


# --- who may ------------------------------------------------------------------------------


def test_read_only_admin_sees_users_but_every_user_change_is_403(client, world):
    client.force_login(world.reader)
    assert client.get(url("user_list", world.org)).status_code == 200
    page = client.get(url("user_detail", world.org, pk=world.alice.pk)).content.decode()
    assert 'id="role-form"' not in page
    assert 'id="user-deactivate"' not in page
    for name in ("user_add", "users_add_csv"):
        assert client.get(url(name, world.org)).status_code == 403
        assert client.post(url(name, world.org), {"email": "x@fjord.example"}).status_code == 403
    for name in ("user_role", "user_deactivate", "user_reactivate", "user_invite"):
        response = client.post(
            url(name, world.org, pk=world.alice.pk), {"role": "customer_full_admin"}
        )
        assert response.status_code == 403, name
    assert role_of(world.alice) == Role.USER
    assert User.objects.get(pk=world.alice.pk).is_active
    assert not User.objects.filter(email="x@fjord.example").exists()


def test_another_orgs_users_are_404_for_user_changes(client, world):
    other = make_customer(name="Other Org")
    outsider = make_user(org=other, role=Role.CUSTOMER_FULL_ADMIN)
    client.force_login(world.admin)
    for name in ("user_role", "user_deactivate", "user_reactivate", "user_invite"):
        response = client.post(url(name, world.org, pk=outsider.pk), {"role": "user"})
        assert response.status_code == 404, name
    assert User.objects.get(pk=outsider.pk).is_active
    # And another org's admin gets 404 for this org's pages.
    client.force_login(outsider)
    assert client.get(url("user_add", world.org)).status_code == 404


# --- add and invite -----------------------------------------------------------------------


def test_full_admin_adds_a_user_with_template_licenses_and_an_invitation(client, world):
    old_messaging = world.old.services.get(type=ServiceType.MESSAGING).pk
    license_template_save(
        org=world.org, service_ids=[old_messaging], keep_existing_licenses=True, actor=None
    )
    client.force_login(world.admin)
    form = client.get(url("user_add", world.org)).content.decode()
    assert "<title>Add a user · Fjord Logistics · Control Hub</title>" in form
    response = client.post(
        url("user_add", world.org),
        {
            "email": "Bea@Fjord.example",
            "first_name": "Bea",
            "last_name": "Berg",
            "role": Role.CUSTOMER_READ_ONLY,
            "invite": "on",
            "template_licenses": "on",
        },
    )
    assert response.status_code == 302
    bea = User.objects.get(email="bea@fjord.example")
    assert bea.org == world.org
    assert not bea.has_usable_password()
    assert role_of(bea) == Role.CUSTOMER_READ_ONLY
    assert list(License.objects.filter(user=bea).values_list("service_id", flat=True)) == [
        old_messaging
    ]
    email = OutboxEmail.objects.get(kind="user_invitation", to_email="bea@fjord.example")
    assert "Fjord Logistics" in email.subject
    assert "/invitation/" in email.body_text
    assert "/invitation/" in email.body_html
    # A person added by an admin reads the language of the org's country (Denmark here), and
    # the invitation is written in it.
    assert bea.language == ""  # not chosen yet: the first sign-in stores the browser's
    language = recipient_locales([(bea.email, world.org.pk)])[(bea.email, world.org.pk)].language
    assert language == "da"
    with translation.override(language):
        expired = gettext("If it has expired, ask your admin to send the invitation again.")
    assert expired in email.body_text
    assert f" {INVITATION_VALID_DAYS} " in email.body_text
    assert not RULE_ID.search(email.subject + email.body_text + email.body_html)
    assert AuditEntry.objects.filter(action="user.add", target=bea.email).count() == 1
    assert AuditEntry.objects.filter(action="user.invite", target=bea.email).count() == 1
    detail = client.get(response["Location"]).content.decode()
    assert "Invited; the link works until" in detail


def test_adding_an_address_that_has_an_account_is_a_field_error(client, world):
    make_user(org=make_customer(name="Elsewhere"), email="taken@else.example")
    client.force_login(world.admin)
    for email, words in (
        (world.alice.email, "already a user of this organization"),
        ("taken@else.example", "already has an account"),
    ):
        response = client.post(url("user_add", world.org), {"email": email, "role": Role.USER})
        page = response.content.decode()
        assert response.status_code == 400
        assert words in page
        assert "Elsewhere" not in page  # whose account it is is not said
    bad = client.post(url("user_add", world.org), {"email": "not-an-address", "role": "boss"})
    assert bad.status_code == 400


def test_adding_a_user_when_the_template_has_no_free_license_adds_nobody(client, world):
    new_calling = world.new.services.get(type=ServiceType.CALLING)
    new_calling.quantity = 0
    new_calling.save()
    listed_facts_changed(world.org)
    license_template_save(
        org=world.org, service_ids=[new_calling.pk], keep_existing_licenses=True, actor=None
    )
    client.force_login(world.admin)
    data = {"email": "cy@fjord.example", "role": Role.USER, "template_licenses": "on"}
    response = client.post(url("user_add", world.org), data)
    assert response.status_code == 400
    assert f"Calling on {world.new.reference} has 0 licenses; this change needs 1." in (
        response.content.decode()
    )
    assert not User.objects.filter(email="cy@fjord.example").exists()
    # Without the template's licenses the user is added.
    data.pop("template_licenses")
    assert client.post(url("user_add", world.org), data).status_code == 302
    assert not License.objects.filter(user__email="cy@fjord.example").exists()


def test_invitation_link_sets_a_password_once_and_signs_in(client, world):
    client.force_login(world.admin)
    client.post(
        url("user_add", world.org),
        {"email": "dag@fjord.example", "role": Role.USER, "invite": "on"},
    )
    client.logout()
    path = invite_path(OutboxEmail.objects.get(to_email="dag@fjord.example"))
    page = client.get(path)
    assert page.status_code == 200
    assert "Join Fjord Logistics" in page.content.decode()
    weak = client.post(path, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 400
    response = client.post(
        path, {"new_password1": "fjord-river-7391", "new_password2": "fjord-river-7391"}
    )
    assert response.status_code == 302
    dag = User.objects.get(email="dag@fjord.example")
    assert dag.check_password("fjord-river-7391")
    assert int(client.session["_auth_user_id"]) == dag.pk
    # Single use: the same link again says so and changes nothing.
    client.logout()
    again = client.post(
        path, {"new_password1": "other-pass-1234", "new_password2": "other-pass-1234"}
    )
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert User.objects.get(pk=dag.pk).check_password("fjord-river-7391")
    assert AuditEntry.objects.filter(action="user.invitation_accept", target=dag.email).count() == 1


def test_invitation_link_expires_and_a_resend_replaces_it(client, world):
    bob = make_user(org=world.org, email="bob@fjord.example", password=None)
    now = timezone.now()
    invitation_send(org=world.org, user=bob, actor=world.admin, now=now)
    first = invite_path(OutboxEmail.objects.get(to_email=bob.email))
    with time_machine.travel(now + timedelta(days=INVITATION_VALID_DAYS, seconds=1)):
        expired = client.get(first)
        assert expired.status_code == 410
        assert "expired" in expired.content.decode()
    invitation_send(org=world.org, user=bob, actor=world.admin, now=now + timedelta(hours=1))
    assert OutboxEmail.objects.filter(to_email=bob.email).count() == 2
    second = invite_path(OutboxEmail.objects.filter(to_email=bob.email).latest("created_at"))
    assert second != first
    assert client.get(first).status_code == 410  # the older link stopped working
    assert client.get(second).status_code == 200
    # A forged token, or the token under another org's address, is refused.
    assert client.get(second[:-3] + "xx/").status_code == 410
    other = make_customer(name="Other Org")
    assert client.get(second.replace(f"/{world.org.pk}/", f"/{other.pk}/")).status_code == 410
    # A deactivated user's link is refused.
    org_user_deactivate(org=world.org, user=bob, actor=world.admin)
    assert client.get(second).status_code == 410
    assert UserInvitation.objects.get(user=bob).accepted_at is None


# --- role, deactivate, reactivate --------------------------------------------------------


def test_full_admin_changes_roles_and_the_last_full_admin_is_kept(client, world):
    client.force_login(world.admin)
    client.post(url("user_role", world.org, pk=world.alice.pk), {"role": Role.CUSTOMER_FULL_ADMIN})
    assert role_of(world.alice) == Role.CUSTOMER_FULL_ADMIN
    client.post(url("user_role", world.org, pk=world.reader.pk), {"role": Role.USER})
    assert role_of(world.reader) == Role.USER
    # Alice demotes herself back to user: allowed, the admin is still a full admin.
    client.force_login(world.alice)
    response = client.post(url("user_role", world.org, pk=world.alice.pk), {"role": Role.USER})
    assert response.status_code == 302
    assert role_of(world.alice) == Role.USER
    # Now the admin is the last one: demoting them is refused with a message.
    client.force_login(world.admin)
    response = client.post(
        url("user_role", world.org, pk=world.admin.pk), {"role": Role.CUSTOMER_READ_ONLY}
    )
    assert response.status_code == 302
    assert role_of(world.admin) == Role.CUSTOMER_FULL_ADMIN
    page = client.get(response["Location"]).content.decode()
    assert "last full admin" in page
    bad = client.post(url("user_role", world.org, pk=world.alice.pk), {"role": "superuser"})
    assert bad.status_code == 302
    assert role_of(world.alice) == Role.USER
    changes = AuditEntry.objects.filter(action="user.role_change")
    assert changes.count() == 3


def test_the_last_full_admin_cannot_be_deactivated_and_deactivated_users_cannot_sign_in(
    client, world
):
    with pytest.raises(UserChangeRefused):
        org_user_deactivate(org=world.org, user=world.admin, actor=world.admin)
    with pytest.raises(UserChangeRefused):
        org_user_role_set(org=world.org, user=world.admin, role=Role.USER, actor=world.admin)
    client.force_login(world.admin)
    client.post(url("user_deactivate", world.org, pk=world.admin.pk))
    assert User.objects.get(pk=world.admin.pk).is_active
    response = client.post(url("user_deactivate", world.org, pk=world.alice.pk))
    assert response.status_code == 302
    alice = User.objects.get(pk=world.alice.pk)
    assert not alice.is_active
    assert License.objects.filter(user=alice).count() == 2  # kept for a reactivation
    page = client.get(url("user_detail", world.org, pk=alice.pk)).content.decode()
    assert "Deactivated: cannot sign in" in page
    listing = client.get(url("user_list", world.org)).content.decode()
    assert "Deactivated" in listing
    assert not client.login(username=alice.email, password=PASSWORD)
    client.force_login(world.admin)
    client.post(url("user_reactivate", world.org, pk=alice.pk))
    assert User.objects.get(pk=alice.pk).is_active
    assert client.login(username=alice.email, password=PASSWORD)


def test_a_deactivated_admin_is_signed_out_of_control_hub(client, world):
    second = make_user(org=world.org, role=Role.CUSTOMER_FULL_ADMIN, email="second@fjord.example")
    client.force_login(second)
    assert client.get(url("overview", world.org)).status_code == 200
    org_user_deactivate(org=world.org, user=second, actor=world.admin)
    assert client.get(url("overview", world.org)).status_code == 302  # to sign in


def test_a_partner_full_admin_does_not_count_as_the_orgs_full_admin(client, world):
    partner_admin = make_user(org=world.partner, role=Role.PARTNER_FULL_ADMIN)
    client.force_login(partner_admin)
    response = client.post(url("user_role", world.org, pk=world.admin.pk), {"role": Role.USER})
    assert response.status_code == 302
    assert role_of(world.admin) == Role.CUSTOMER_FULL_ADMIN
    make_partner()  # unrelated partners change nothing


# --- bulk add by CSV ----------------------------------------------------------------------


def upload(client, org, text, **options):
    data = {"file": SimpleUploadedFile("users.csv", text.encode(), "text/csv"), **options}
    return client.post(url("users_add_csv", org), data)


def test_bulk_add_reports_every_bad_row_by_line_and_adds_nobody(client, world):
    make_user(org=make_customer(name="Elsewhere"), email="taken@else.example")
    text = (
        "Email,First name,Last name,Role\n"
        "ok.one@fjord.example,Ok,One,User\n"  # 2
        "not-an-address,Bad,Email,User\n"  # 3
        f"{world.alice.email},Alice,Again,User\n"  # 4
        "taken@else.example,Taken,Else,User\n"  # 5
        "ok.one@fjord.example,Ok,Twice,User\n"  # 6
        "boss@fjord.example,Big,Boss,Owner\n"  # 7
        "short@fjord.example,Too,Few\n"  # 8
    )
    client.force_login(world.admin)
    before = User.objects.count()
    response = upload(client, world.org, text)
    page = response.content.decode()
    assert 'id="users-add-errors"' in page
    errors = [(e.line, e.reason) for e in response.context["errors"]]
    lines = [line for line, _reason in errors]
    assert lines == [3, 4, 5, 6, 7, 8], errors
    reasons = dict(errors)
    assert "is not an email address" in reasons[3]
    assert "already a user of this organization" in reasons[4]
    assert "already has an account" in reasons[5]
    assert "Elsewhere" not in reasons[5]
    assert "first on line 2" in reasons[6]
    assert "Unknown role" in reasons[7]
    assert "cells" in reasons[8]
    assert User.objects.count() == before


def test_bulk_add_previews_then_adds_all_with_roles_licenses_and_invitations(client, world):
    old_messaging = world.old.services.get(type=ServiceType.MESSAGING).pk
    license_template_save(
        org=world.org, service_ids=[old_messaging], keep_existing_licenses=True, actor=None
    )
    text = (
        "Email,First name,Last name,Role\n"
        "eva@fjord.example,Eva,Ek,Full admin\n"
        "finn@fjord.example,Finn,Falk,read-only admin\n"
        "gro@fjord.example,'=Gro,Gran,\n"
    )
    client.force_login(world.admin)
    preview = upload(client, world.org, text, invite="on", template_licenses="on")
    page = preview.content.decode()
    assert 'id="users-add-preview"' in page
    assert "3 users will be added" in page
    assert not User.objects.filter(email="eva@fjord.example").exists()  # only a preview
    token = preview.context["apply_form"].initial["token"]
    response = client.post(url("users_add_csv", world.org), {"apply": "1", "token": token})
    assert response.status_code == 302
    eva, finn, gro = (User.objects.get(email=f"{n}@fjord.example") for n in ("eva", "finn", "gro"))
    assert role_of(eva) == Role.CUSTOMER_FULL_ADMIN
    assert role_of(finn) == Role.CUSTOMER_READ_ONLY
    assert role_of(gro) == Role.USER
    assert gro.first_name == "=Gro"  # an escaped cell reads back as typed
    assert eva.email_domain == "fjord.example"
    for person in (eva, finn, gro):
        assert not person.has_usable_password()
        assert License.objects.filter(user=person, service_id=old_messaging).exists()
    assert OutboxEmail.objects.filter(kind="user_invitation").count() == 3
    assert AuditEntry.objects.filter(action="user.add").count() == 3


def test_bulk_add_names_the_line_where_the_template_runs_out(client, world):
    new_calling = world.new.services.get(type=ServiceType.CALLING)
    new_calling.quantity = 2
    new_calling.save()
    listed_facts_changed(world.org)
    license_template_save(
        org=world.org, service_ids=[new_calling.pk], keep_existing_licenses=True, actor=None
    )
    text = "Email\n" + "".join(f"p{i}@fjord.example\n" for i in range(4))
    client.force_login(world.admin)
    response = upload(client, world.org, text, template_licenses="on")
    errors = [(e.line, e.reason) for e in response.context["errors"]]
    assert errors == [(4, f"Calling on {world.new.reference} has 2 licenses; this change needs 4.")]
    ok = upload(client, world.org, text)  # without the template's licenses
    assert 'id="users-add-preview"' in ok.content.decode()


def test_bulk_add_bad_files_are_never_a_500(client, world):
    client.force_login(world.admin)
    empty = upload(client, world.org, "")
    assert empty.status_code == 400
    assert "empty" in empty.content.decode()
    for text in ("Name\nx\n", "Email,Email\na@b.example,a@b.example\n", "Email\n\n"):
        response = upload(client, world.org, text)
        assert response.status_code == 200, text
        assert 'id="users-add-errors"' in response.content.decode(), text
    binary = client.post(
        url("users_add_csv", world.org),
        {"file": SimpleUploadedFile("u.csv", b"\xff\xfe\x00", "text/csv")},
    )
    assert binary.status_code == 400
    stale = client.post(url("users_add_csv", world.org), {"apply": "1", "token": "nope"})
    assert stale.status_code == 302
    sample = client.get(url("users_add_csv", world.org), {"sample": "1"})
    assert sample.content.decode().startswith("Email,First name,Last name,Role")


@pytest.mark.django_db(transaction=True)
def test_two_full_admins_demoting_each_other_at_once_leave_one(world, monkeypatch):
    """The last-full-admin check holds under a real race (PostgreSQL, two connections): the
    full-admin rows are locked, so the second demotion sees the first and is refused."""
    import threading
    import time

    from django.db import connection, connections

    import customers.user_services as services

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite test databases live in one in-memory connection")
    second = make_user(org=world.org, role=Role.CUSTOMER_FULL_ADMIN, email="second@fjord.example")
    counted = services._other_active_full_admins

    def slow_count(**kwargs):  # the real check, then a pause that widens the race window
        n = counted(**kwargs)
        time.sleep(0.3)
        return n

    monkeypatch.setattr(services, "_other_active_full_admins", slow_count)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor, target) -> None:
        barrier.wait()
        try:
            org_user_role_set(org=world.org, user=target, role=Role.USER, actor=actor)
            outcomes.append("demoted")
        except UserChangeRefused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=demote, args=(world.admin, second)),
        threading.Thread(target=demote, args=(second, world.admin)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == ["demoted", "refused"]
    assert Membership.objects.filter(org=world.org, role=Role.CUSTOMER_FULL_ADMIN).count() == 1
