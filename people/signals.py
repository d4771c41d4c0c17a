"""Questions the people app asks other apps; it never imports them."""

from django.dispatch import Signal

# Warnings to show on a contact's admin page (e.g. an address that bounced permanently);
# each receiver returns a list of strings.
contact_warnings = Signal()  # contact
