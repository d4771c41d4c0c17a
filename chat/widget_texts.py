"""The widget's words, translated on the server in the visitor's language (gettext), so the
script carries no text of its own and the project's translators cover it."""

from django.utils.translation import gettext as _


def widget_strings() -> dict[str, str]:
    return {
        "launcher": _("Chat with us"),
        "title": _("Chat with us"),
        "close": _("Close"),
        "intro": _("Ask us anything. First, maybe an article answers it:"),
        "search_placeholder": _("Search our help articles"),
        "search": _("Search"),
        "no_results": _("No articles found."),
        "start": _("Start a chat"),
        "name": _("Your name (optional)"),
        "email": _("Your email (optional)"),
        "message_placeholder": _("Write a message…"),
        "send": _("Send"),
        "attach": _("Attach a file"),
        "typing": _("Writing…"),
        # An agent types a reply (chat.typing): "%(name)s" is their first name.
        "agent_typing": _("%(name)s is typing…"),
        "agent_typing_unnamed": _("An agent is typing…"),
        "sent": _("Sent"),
        "delivered": _("Delivered"),
        "read": _("Read"),
        "you": _("You"),
        "support": _("Support"),
        "offline": _("We are away right now. Leave a message and we will answer by chat."),
        "transcript": _("Email me this chat"),
        "transcript_email": _("Email address for the transcript"),
        "transcript_sent": _("The transcript is on its way."),
        "error": _("Your message could not be sent. Please try again."),
        "too_large": _("This file is too large."),
        "reconnecting": _("Reconnecting…"),
    }
