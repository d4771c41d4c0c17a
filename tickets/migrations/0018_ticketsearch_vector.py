from django.db import migrations

# PostgreSQL keeps each document's tsvector in a stored generated column with the GIN index
# on it: a phrase (whose positions the index cannot check) and the ranking read the stored
# vector instead of parsing the document again for every candidate row. SQLite keeps FTS5.
FORWARD = [
    "ALTER TABLE tickets_ticketsearch ADD COLUMN vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, document)) STORED",
    "CREATE INDEX tickets_ticketsearch_vector ON tickets_ticketsearch USING gin (vector)",
    "DROP INDEX IF EXISTS tickets_ticketsearch_gin",
]
REVERSE = [
    "CREATE INDEX tickets_ticketsearch_gin ON tickets_ticketsearch"
    " USING gin (to_tsvector('simple'::regconfig, document))",
    "DROP INDEX IF EXISTS tickets_ticketsearch_vector",
    "ALTER TABLE tickets_ticketsearch DROP COLUMN IF EXISTS vector",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0017_alter_ticket_channel"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(REVERSE))]
