from django.utils import translation

from tests.factories import TicketFactory
from tickets.models import ActivityLog
from tickets.states import Priority, Status
from tickets.templatetags.helpdesk_tags import choice_label


def test_choice_label_reads_like_get_display_in_every_language(pool):
    ticket = TicketFactory(pool=pool, status=Status.WAITING_CUSTOMER, priority=Priority.URGENT)
    entry = ActivityLog(ticket=ticket, action=ActivityLog.Action.PULLED)
    for language in ("en", "pt-br", "pl"):
        with translation.override(language):
            assert str(choice_label(ticket, "status")) == ticket.get_status_display()
            assert str(choice_label(ticket, "priority")) == ticket.get_priority_display()
            assert str(choice_label(entry, "action")) == entry.get_action_display()
    with translation.override("pt-br"):
        assert str(choice_label(ticket, "status")) != "Waiting for customer"


def test_choice_label_shows_an_unknown_value_as_it_is(pool):
    ticket = TicketFactory(pool=pool)
    ticket.status = "archived"
    assert choice_label(ticket, "status") == "archived"


def test_select_options_mark_the_current_values_and_escape_labels(pool):
    from django import forms

    from tickets.templatetags.helpdesk_tags import select_options

    class Form(forms.Form):
        kind = forms.MultipleChoiceField(choices=[("a", "<b>A</b>"), ("b", "B & C"), ("c", "C")])

    html = select_options(Form({"kind": ["a", "c"]})["kind"])
    assert html == (
        '<option value="a" selected>&lt;b&gt;A&lt;/b&gt;</option>'
        '<option value="b">B &amp; C</option>'
        '<option value="c" selected>C</option>'
    )
