# Indexes that others already cover (a composite one leading with the column), or that only
# LIKE would use (db_index=True's _like twin on PostgreSQL): each costs a write per row.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from helpdesk.migration_ops import drop_single_column_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0008_agentprofile_compact_queue"),
        ("tickets", "0021_search_document_language"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="activitylog",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activity",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="message_id",
                    field=models.CharField(blank=True, max_length=255),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_tickets",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="technician",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="tickets.pool",
                        verbose_name="pool",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="requester",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="people.contact",
                        verbose_name="requester",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(
                    drop_single_column_indexes(
                        [
                            ("tickets_activitylog", "ticket_id"),
                            ("tickets_message", "message_id"),
                            ("tickets_message", "ticket_id"),
                            ("tickets_ticket", "assignee_id"),
                            ("tickets_ticket", "pool_id"),
                            ("tickets_ticket", "requester_id"),
                        ]
                    ),
                    migrations.RunPython.noop,
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["message_id"], name="message_message_id_idx"),
        ),
    ]
