"""The same customer across channels: found by email address or by phone digits.

Numbers are compared by digits only, as people.ContactPhone stores them: ``+55 (11)
98765-4321`` and WhatsApp's wa_id ``5511987654321`` are one number. A number stored
without its country code still matches when it is the end of the other (at least 8
digits), so a contact typed in by an agent is recognised when they write on WhatsApp.
"""

from people.models import Contact, ContactEmail, ContactPhone

MIN_SUFFIX_DIGITS = 8


def digits_of(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def contact_by_phone(number: str) -> Contact | None:
    """The contact owning ``number`` (by its digits), oldest first; None when nobody does."""
    digits = digits_of(number)
    if len(digits) < MIN_SUFFIX_DIGITS:
        return None
    exact = ContactPhone.objects.filter(digits=digits).select_related("contact").first()
    if exact is not None:
        return exact.contact
    # One indexed-prefix-free query on the last digits, then the suffix rule in Python.
    tail = digits[-MIN_SUFFIX_DIGITS:]
    for row in ContactPhone.objects.filter(digits__endswith=tail).select_related("contact"):
        shorter, longer = sorted((row.digits, digits), key=len)
        if len(shorter) >= MIN_SUFFIX_DIGITS and longer.endswith(shorter):
            return row.contact
    return None


def contact_by_email(address: str) -> Contact | None:
    row = ContactEmail.objects.filter(address=address.strip().lower()).select_related("contact")
    found = row.first()
    return found.contact if found else None


def find_or_create_contact(
    *, name: str, phone: str = "", email: str = "", language: str = ""
) -> Contact:
    """The contact with this email or phone number, or a new one carrying them (and
    ``language``, when given)."""
    contact = (contact_by_email(email) if email else None) or (
        contact_by_phone(phone) if phone else None
    )
    if contact is not None:
        return contact
    contact = Contact.objects.create(name=(name or phone or email or "?")[:200], language=language)
    if phone and len(digits_of(phone)) >= MIN_SUFFIX_DIGITS:
        number = phone if phone.startswith("+") else f"+{digits_of(phone)}"
        ContactPhone.objects.create(contact=contact, number=number)
    if email:
        ContactEmail.objects.create(contact=contact, address=email, is_primary=True)
    return contact
