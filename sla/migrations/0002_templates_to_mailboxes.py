"""The SLA's admin-edited mail texts move to mailboxes.EmailTemplate (kinds ``sla.*``)."""

from django.db import migrations


def copy_sla_templates(apps, schema_editor):
    old = apps.get_model("sla", "NotificationTemplate")
    new = apps.get_model("mailboxes", "EmailTemplate")
    new.objects.bulk_create(
        new(
            kind=f"sla.{row.kind}",
            language=row.language,
            subject=row.subject,
            body_text=row.body,
            active=True,
        )
        for row in old.objects.order_by("pk")
    )


def copy_back(apps, schema_editor):
    old = apps.get_model("sla", "NotificationTemplate")
    new = apps.get_model("mailboxes", "EmailTemplate")
    edited = new.objects.filter(kind__startswith="sla.")
    for row in edited.filter(pool__isnull=True, mailbox__isnull=True).order_by("pk"):
        old.objects.update_or_create(
            kind=row.kind.removeprefix("sla."),
            language=row.language,
            defaults={"subject": row.subject, "body": row.body_text},
        )
    edited.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("mailboxes", "0010_one_email_template"),
    ]

    operations = [
        migrations.RunPython(copy_sla_templates, copy_back),
        migrations.DeleteModel(name="NotificationTemplate"),
    ]
