"""Questions the people app asks other apps; it never imports them."""

from django.dispatch import Signal

# Warnings to show on a contact's admin page (e.g. an address that bounced permanently);
# each receiver returns a list of strings.
contact_warnings = Signal()  # contact

# Agents whose access profile changed, or whose profile's pools changed: the app that owns
# pool memberships makes them match (sent inside the transaction; a receiver that raises
# undoes the change). Receivers get ``users``, a list of user ids.
access_profiles_applied = Signal()
