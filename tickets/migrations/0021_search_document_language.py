from django.db import migrations, models

# Plain ADD COLUMN on both databases: Django would rebuild the table on SQLite for a NOT NULL
# column, which drops the triggers that keep the FTS5 table in step (0016).
ADD = [
    "ALTER TABLE tickets_ticketsearch ADD COLUMN language varchar(10) NOT NULL DEFAULT ''",
    "ALTER TABLE tickets_ticketsearch ADD COLUMN language_key bigint NULL",
]
DROP = [
    "ALTER TABLE tickets_ticketsearch DROP COLUMN language_key",
    "ALTER TABLE tickets_ticketsearch DROP COLUMN language",
]


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0020_savedview"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(sql, reverse_sql=undo)
                for sql, undo in zip(ADD, reversed(DROP), strict=True)
            ],
            state_operations=[
                migrations.AddField(
                    model_name="ticketsearch",
                    name="language",
                    field=models.CharField(blank=True, default="", max_length=10),
                ),
                migrations.AddField(
                    model_name="ticketsearch",
                    name="language_key",
                    field=models.BigIntegerField(blank=True, null=True),
                ),
            ],
        ),
    ]
