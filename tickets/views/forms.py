"""The shared form handler lives in the project package, below every app (``helpdesk.forms``)."""

from helpdesk.forms import handle_form

__all__ = ["handle_form"]
