import io

import pytest

from people.models import ContactPhone
from people.phones import display_number, normalise_number, number_prefix
from phone.services import contact_for_number, contacts_for_numbers
from tests.factories import ContactFactory


@pytest.mark.parametrize(
    "typed",
    [
        "+55 11 98765-4321",
        "+55 (11) 98765-4321",
        "55 11 98765 4321",
        "5511987654321",
        "0055 11 98765-4321",
        "(11) 98765-4321",
        "11987654321",
        "011 98765-4321",
    ],
)
def test_brazilian_mobile_numbers_in_every_format_are_one_e164_number(typed, settings):
    settings.PHONE_DEFAULT_REGION = "BR"
    assert normalise_number(typed) == "+5511987654321"


@pytest.mark.parametrize(
    "typed", ["+55 21 3456-7890", "(21) 3456-7890", "21 34567890", "552134567890"]
)
def test_brazilian_landlines_with_and_without_country_code(typed, settings):
    settings.PHONE_DEFAULT_REGION = "BR"
    assert normalise_number(typed) == "+552134567890"


@pytest.mark.parametrize(
    "typed", ["+48 22 123 45 67", "0048 22 123 45 67", "48221234567", "22 123 45 67", "221234567"]
)
def test_polish_landlines_with_and_without_country_code(typed, settings):
    settings.PHONE_DEFAULT_REGION = "PL"
    assert normalise_number(typed) == "+48221234567"


@pytest.mark.parametrize("typed", ["+48 601 234 567", "601-234-567", "48601234567"])
def test_polish_mobiles_read_in_poland(typed, settings):
    settings.PHONE_DEFAULT_REGION = "PL"
    assert normalise_number(typed) == "+48601234567"


def test_polish_number_with_plus_is_read_as_polish_in_brazil(settings):
    settings.PHONE_DEFAULT_REGION = "BR"
    assert normalise_number("+48 601 234 567") == "+48601234567"
    assert normalise_number("0048 601 234 567") == "+48601234567"


@pytest.mark.parametrize("typed", ["", "abc", "12", "  "])
def test_what_is_no_number_normalises_to_empty(typed):
    assert normalise_number(typed) == ""


def test_prefixes_are_e164_starts(settings):
    settings.PHONE_DEFAULT_REGION = "BR"
    assert number_prefix("(11) 9876") == "+55119876"
    assert number_prefix("011 9876") == "+55119876"
    assert number_prefix("+48 22") == "+4822"
    assert number_prefix("0048 22") == "+4822"
    assert number_prefix("5511") == "+5511"
    settings.PHONE_DEFAULT_REGION = "PL"
    assert number_prefix("22 12") == "+482212"


def test_display_keeps_the_country_code():
    assert display_number("+5511987654321") == "+55 11 98765-4321"


def test_contact_phone_keeps_its_e164_form_on_save(db, settings):
    settings.PHONE_DEFAULT_REGION = "BR"
    contact = ContactFactory()
    phone = ContactPhone.objects.create(contact=contact, number="(11) 98765-4321")
    assert phone.e164 == "+5511987654321"
    phone.number = "+48 601 234 567"
    phone.save()
    phone.refresh_from_db()
    assert phone.e164 == "+48601234567"


def test_a_caller_is_matched_whatever_format_either_side_used(db, settings):
    settings.PHONE_DEFAULT_REGION = "BR"
    paula = ContactFactory(name="Paula")
    ContactPhone.objects.create(contact=paula, number="011 98765-4321")
    jan = ContactFactory(name="Jan")
    ContactPhone.objects.create(contact=jan, number="+48 22 123 45 67")
    assert contact_for_number(normalise_number("+55 11 98765 4321")) == paula
    assert contact_for_number(normalise_number("0048221234567")) == jan
    assert contact_for_number(normalise_number("+55 11 91111-2222")) is None
    found = contacts_for_numbers(["+5511987654321", "+48221234567", "+5511911112222"])
    assert found == {"+5511987654321": paula, "+48221234567": jan}


def test_fill_phone_numbers_recomputes_after_a_region_change(db, settings):
    from django.core.management import call_command

    settings.PHONE_DEFAULT_REGION = "PL"
    phone = ContactPhone.objects.create(contact=ContactFactory(), number="22 123 45 67")
    assert phone.e164 == "+48221234567"
    ContactPhone.objects.filter(pk=phone.pk).update(e164="")
    out = io.StringIO()
    call_command("fill_phone_numbers", stdout=out)
    assert "1 phone numbers updated" in out.getvalue()
    phone.refresh_from_db()
    assert phone.e164 == "+48221234567"


def test_contacts_made_in_bulk_get_their_e164_number(db, settings):
    from people.services import ContactDetails, create_contacts

    settings.PHONE_DEFAULT_REGION = "BR"
    [contact] = create_contacts([ContactDetails(name="Bia", phone="(11) 98765-4321")])
    assert contact.phones.get().e164 == "+5511987654321"
    assert contact_for_number("+5511987654321") == contact
