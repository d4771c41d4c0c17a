"""Events of the phone desk, for the apps below it (webhooks). Sent after commit, robustly."""

from django.dispatch import Signal

# calls (list of Call, their ``contact`` loaded): new incoming calls, whether the PBX
# reported them (on its token or an API token) or an agent logged them by hand.
calls_received = Signal()
