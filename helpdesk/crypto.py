"""Credentials we must store to use (mailbox passwords, tokens): encrypted at rest.

`EncryptedTextField` keeps a Fernet token in the database and gives the plain text back
to Python. It answers no lookup but `isnull`: no filter, search or admin URL can test a
secret character by character (`?password__startswith=` fails closed everywhere).
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_HKDF_INFO = b"helpdesk field encryption"


def _derive_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@functools.cache
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    """FIELD_ENCRYPTION_KEYS if set, else keys derived from SECRET_KEY and its fallbacks.

    The first key encrypts; every key decrypts, so a new key can go first while the old
    ones still read what is stored (`manage.py reencrypt_secrets` then rewrites it).
    """
    configured = [key.encode() for key in settings.FIELD_ENCRYPTION_KEYS]
    if not configured:
        secret_keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        configured = [_derive_key(key) for key in secret_keys]
    return _fernet(tuple(configured))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as error:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: SECRET_KEY (or FIELD_ENCRYPTION_KEYS) "
            "changed without keeping the old key in SECRET_KEY_FALLBACKS."
        ) from error


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database; never filtered on, never shown back in forms.

    The empty string stays empty, so "no password" remains visible without decrypting.
    """

    secret = True

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if not value:
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        # Ciphertext compares with nothing; only "is there one at all" is answerable.
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def get_transform(self, lookup_name):
        return None

    def formfield(self, **kwargs):
        # Write-only in every form: the stored value is never rendered back into a page.
        return forms.CharField(
            label=self.verbose_name,
            required=not self.blank,
            strip=False,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )


def is_secret_field(field) -> bool:
    """Encrypted credentials, and password hashes (users') wherever a path reaches them."""
    return getattr(field, "secret", False) or getattr(field, "name", None) == "password"
