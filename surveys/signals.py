"""Events of the surveys, for the apps below (webhooks). Sent after commit, robustly."""

from django.dispatch import Signal

surveys_answered = Signal()  # responses (list of Response, with ``ticket``): customers answered
