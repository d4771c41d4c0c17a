"""No index twice: a column led by a composite index gets no single-column one of its own,
and columns looked up by equality get no LIKE twin (each index is one more write for
every ticket, message, history row and stored mail)."""

import pytest
from django.db import connection

COVERED = [
    ("tickets_ticket", "pool_id"),
    ("tickets_ticket", "requester_id"),
    ("tickets_ticket", "assignee_id"),
    ("tickets_message", "ticket_id"),
    ("tickets_activitylog", "ticket_id"),
    ("mailboxes_rawmessage", "mailbox_id"),
]
EQUALITY_ONLY = [("tickets_message", "message_id"), ("mailboxes_rawmessage", "sha256")]


def _indexes(table, *, unique_constraints=False):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: info
        for name, info in constraints.items()
        if info["index"] or (unique_constraints and info["unique"] and not info["primary_key"])
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("table", "column"), COVERED)
def test_a_column_a_composite_index_leads_with_has_no_index_of_its_own(table, column):
    assert not [info for info in _indexes(table).values() if info["columns"] == [column]]
    leading = _indexes(table, unique_constraints=True).values()
    assert [info for info in leading if info["columns"][:1] == [column]], "still reachable"


@pytest.mark.django_db
@pytest.mark.parametrize(("table", "column"), EQUALITY_ONLY)
def test_a_column_looked_up_by_equality_has_one_index(table, column):
    assert len([i for i in _indexes(table).values() if i["columns"] == [column]]) == 1
