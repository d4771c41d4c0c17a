from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from people.models import Absence, ContactPhone, Role
from people.roles import role_of, sees_all_pools
from people.services import find_or_create_contacts
from people.text import fold, split_keywords


def test_keywords_fold_case_and_accents_for_portuguese_and_polish():
    assert fold("Faturação ÚRGENTE") == "faturacao urgente"
    assert fold("Łódź, Żółć") == "lodz, zolc"
    assert split_keywords("Fatura, nota fiscal\nFAKTURA;") == ["fatura", "nota fiscal", "faktura"]


def test_roles_come_from_groups_and_permissions(agent, junior, supervisor, admin_user):
    assert [role_of(u) for u in (agent, junior, supervisor, admin_user)] == [
        Role.AGENT,
        Role.AGENT,
        Role.SUPERVISOR,
        Role.ADMIN,
    ]
    assert not sees_all_pools(agent)
    assert sees_all_pools(supervisor)
    assert junior.agent_profile.is_junior


def test_contact_is_found_by_any_of_its_addresses_case_insensitively(db):
    contact = find_or_create_contacts({"Ana@Example.COM": "Ana"})["ana@example.com"]
    contact.emails.create(address="ana.work@example.com")
    assert find_or_create_contacts({"ana@example.com": ""})["ana@example.com"] == contact
    found = find_or_create_contacts({"ANA.WORK@example.com": ""})
    assert found == {"ana.work@example.com": contact}
    assert contact.primary_email == "ana@example.com"


def test_phone_numbers_are_matched_by_digits(customer):
    phone = ContactPhone.objects.create(contact=customer, number="+55 (11) 98765-4321")
    assert phone.digits == "5511987654321"


def test_absence_must_end_after_it_starts_and_not_substitute_itself(agent, supervisor):
    now = timezone.now()
    with pytest.raises(IntegrityError):
        Absence.objects.create(agent=agent, starts_at=now, ends_at=now - timedelta(hours=1))


def test_current_absences_are_those_in_force_now(agent, supervisor, make_absence):
    make_absence(agent, substitute=supervisor)
    past = timezone.now() - timedelta(days=3)
    make_absence(supervisor, starts_at=past - timedelta(days=1), ends_at=past)
    assert list(Absence.objects.current().values_list("agent__username", flat=True)) == ["agent"]


def test_a_lost_creation_race_returns_the_winners_contact(db, monkeypatch):
    from people import services
    from people.models import ContactEmail

    winner = find_or_create_contacts({"race@example.com": "Winner"})["race@example.com"]
    real_filter = ContactEmail.objects.filter

    def first_read_misses(*args, **kwargs):
        # Simulate the read happening just before the other process's insert committed.
        monkeypatch.setattr(ContactEmail.objects, "filter", real_filter)
        return real_filter(pk=-1)

    monkeypatch.setattr(ContactEmail.objects, "filter", first_read_misses)
    found = services.find_or_create_contacts({"RACE@example.com": "Loser"})
    assert found == {"race@example.com": winner}
    assert services.Contact.objects.count() == 1, "the loser's contact is removed again"
