"""Operations the apps' migrations share (imported by migrations: keep them stable)."""


def drop_single_column_indexes(columns):
    """A RunPython function that drops the plain indexes (and PostgreSQL's _like twins)
    Django made for these (table, column) pairs, and nothing else.

    For a ``db_index=True`` → ``False`` change on a foreign key, Django's AlterField would
    drop and re-add the foreign key, validating every row under a lock; the key stays as
    it is. Indexes named by ``Meta.indexes`` (ours end in ``_idx``) are kept.
    """

    def forwards(apps, schema_editor):
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            for table, column in columns:
                for name, info in connection.introspection.get_constraints(cursor, table).items():
                    if (
                        info["index"]
                        and info["columns"] == [column]
                        and not info["unique"]
                        and not info["primary_key"]
                        and not name.endswith("_idx")
                    ):
                        schema_editor.execute(
                            f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}"
                        )

    return forwards
