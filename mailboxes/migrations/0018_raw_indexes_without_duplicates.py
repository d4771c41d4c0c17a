# Indexes that others already cover (a composite one leading with the column), or that only
# LIKE would use (db_index=True's _like twin on PostgreSQL): each costs a write per row.

import django.db.models.deletion
from django.db import migrations, models

from helpdesk.migration_ops import drop_single_column_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("mailboxes", "0017_notification_preferences"),
        ("tickets", "0021_search_document_language"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="rawmessage",
                    name="mailbox",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="raw_messages",
                        to="mailboxes.mailbox",
                        verbose_name="mailbox",
                    ),
                ),
                migrations.AlterField(
                    model_name="rawmessage",
                    name="sha256",
                    field=models.CharField(max_length=64),
                ),
            ],
            database_operations=[
                migrations.RunPython(
                    drop_single_column_indexes(
                        [("mailboxes_rawmessage", "mailbox_id"), ("mailboxes_rawmessage", "sha256")]
                    ),
                    migrations.RunPython.noop,
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="rawmessage",
            index=models.Index(fields=["sha256"], name="raw_sha256_idx"),
        ),
    ]
