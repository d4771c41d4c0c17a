"""Covering indexes for the reports: each date the facts count on, and the deadlines met
and missed, with what the measures read, so a period's figures are index-only scans."""

from django.db import migrations, models

# The deadlines' (sla's table, the reports' need: raw SQL, no model state in sla). Met:
# every "met" measure counts met deadlines never missed, by target and date.
DEADLINE_INDEXES = [
    "CREATE INDEX IF NOT EXISTS report_deadline_met_idx ON sla_deadline (target, met_at) "
    "INCLUDE (ticket_id) WHERE state = 'met' AND breached_at IS NULL",
    "CREATE INDEX IF NOT EXISTS report_deadline_missed_idx ON sla_deadline (breached_at) "
    "INCLUDE (target, ticket_id) WHERE breached_at IS NOT NULL",
]


def create(apps, schema_editor):
    # INCLUDE is PostgreSQL's; SQLite reads the sla's own indexes.
    if schema_editor.connection.vendor == "postgresql":
        for sql in DEADLINE_INDEXES:
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS report_deadline_met_idx")
        schema_editor.execute("DROP INDEX IF EXISTS report_deadline_missed_idx")


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0007_ticket_owner_index'),
        ('sla', '0003_deadline_breached_index'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ticketfact',
            name='fact_created_idx',
        ),
        migrations.RemoveIndex(
            model_name='ticketfact',
            name='fact_first_response_idx',
        ),
        migrations.RemoveIndex(
            model_name='ticketfact',
            name='fact_finished_idx',
        ),
        migrations.AddIndex(
            model_name='ticketfact',
            index=models.Index(fields=['created_at'], include=('channel', 'pool_key', 'assignee_key'), name='fact_created_cover_idx'),
        ),
        migrations.AddIndex(
            model_name='ticketfact',
            index=models.Index(condition=models.Q(('first_response_at__isnull', False)), fields=['first_response_at'], include=('first_response_seconds', 'first_response_business_seconds', 'pool_key', 'assignee_key'), name='fact_responded_cover_idx'),
        ),
        migrations.AddIndex(
            model_name='ticketfact',
            index=models.Index(condition=models.Q(('finished_at__isnull', False)), fields=['finished_at'], include=('handling_seconds', 'handling_business_seconds', 'late', 'consulted', 'pool_key', 'assignee_key'), name='fact_solved_cover_idx'),
        ),
        migrations.RunPython(create, drop),
    ]
