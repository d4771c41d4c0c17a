"""Phone numbers in one form, E.164 ("+5511987654321"), so a caller is found by equality.

A PBX sends "011 98765-4321", "+48 22 123 45 67" or "5511987654321"; contacts were typed
any way at all. Both sides go through ``normalise_number`` and meet on the ``e164`` column.
Numbers without a country code are read in ``PHONE_DEFAULT_REGION`` (e.g. "BR", "PL").
"""

import phonenumbers
from django.conf import settings

# A country code alone, typed without "+": "55 11 9...", "48 22 ...". Tried when the number
# does not parse as a national one of the default region.
_INTERNATIONAL_PREFIXES = ("00",)


def _parse(text: str, region: str | None):
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def normalise_number(text: str, *, region: str = "") -> str:
    """The E.164 form of ``text``, or "" when it is no phone number we can read.

    Tries the number as written (national in ``region``, or international with "+" or
    "00"), then as an international number written without "+" ("5511987654321"). A
    number that is valid nowhere but has enough digits is kept as "+digits" so it still
    matches the same number typed again.
    """
    default_region = (region or settings.PHONE_DEFAULT_REGION or "").upper() or None
    raw = (text or "").strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) < 3:
        return ""
    if raw.startswith(_INTERNATIONAL_PREFIXES) and not raw.startswith("+"):
        raw = "+" + raw.lstrip("0")
    candidates = [_parse(raw, default_region)]
    if not raw.startswith("+"):
        candidates.append(_parse("+" + digits, None))
    for number in candidates:
        if number is not None and phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    for number in candidates:
        if number is not None and phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return "+" + digits if raw.startswith("+") else ""


def number_prefix(text: str, *, region: str = "") -> str:
    """What a typed start of a number matches in E.164: "+55119", from "55119" or "(11) 9".

    Typed with "+" or a country code, the digits are kept; a national start ("11 9",
    "011 9", "22 1") gets the default region's country code in front.
    """
    region = (region or settings.PHONE_DEFAULT_REGION or "").upper()
    raw = (text or "").strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not digits:
        return ""
    if raw.startswith("+"):
        return "+" + digits
    if raw.startswith("00"):
        return "+" + digits[2:]
    country = phonenumbers.country_code_for_region(region) if region else 0
    if country and not digits.startswith(str(country)):
        # The national trunk prefix ("0" in Brazil and Poland) is not part of E.164.
        return f"+{country}{digits.lstrip('0')}"
    return "+" + digits


def display_number(e164: str) -> str:
    """A stored E.164 number as people read it: "+55 11 98765-4321"."""
    number = _parse(e164, None) if e164 else None
    if number is None:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
