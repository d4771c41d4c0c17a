from django.db import migrations

# PostgreSQL only: subject search ("icontains") uses a trigram index instead of reading
# every ticket. SQLite has no such index; its search stays a scan (fine at its scale).
CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS ticket_subject_trgm_idx
    ON tickets_ticket USING gin ((UPPER(subject::text)) gin_trgm_ops);
"""
DROP = "DROP INDEX IF EXISTS ticket_subject_trgm_idx;"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_queue_indexes")]

    operations = [migrations.RunPython(create_index, drop_index)]
