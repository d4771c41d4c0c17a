"""One EmailTemplate for every kind of automatic mail (issue 11).

EmailTemplate gains the notification and SLA kinds, an HTML part and an on/off switch
(``body`` becomes ``body_text``); every admin-edited NotificationTemplate row is copied
into it here (language, pool, subject, text; a disabled rule's texts too) before 0011
drops that model. The SLA's templates are copied by ``sla.0002_templates_to_mailboxes``.
"""

import django.db.models.deletion
from django.db import migrations, models

KINDS = [
    ("auto_reply", "Automatic reply to a new ticket"),
    ("notification.ticket_opened", "Notification: ticket opened"),
    ("notification.ticket_taken", "Notification: ticket taken"),
    ("notification.ticket_started", "Notification: work started"),
    ("notification.customer_message", "Notification: customer wrote"),
    ("notification.agent_message", "Notification: agent replied"),
    ("notification.ticket_resolved", "Notification: ticket resolved"),
    ("notification.resolution_approved", "Notification: resolution approved"),
    ("notification.resolution_rejected", "Notification: resolution rejected"),
    ("notification.survey_answered", "Notification: survey answered"),
    ("notification.ticket_cancelled", "Notification: ticket cancelled"),
    ("sla.reminder", "SLA: deadline approaching (to the agent)"),
    ("sla.breach", "SLA: deadline missed (escalation)"),
    ("sla.consultation_question", "SLA: question to a department"),
    ("sla.consultation_reminder", "SLA: reminder to a department"),
    ("sla.consultation_answered", "SLA: department answered"),
]


def copy_notification_templates(apps, schema_editor):
    old = apps.get_model("mailboxes", "NotificationTemplate")
    new = apps.get_model("mailboxes", "EmailTemplate")
    new.objects.bulk_create(
        new(
            kind=f"notification.{row.rule.event}",
            language=row.language,
            pool_id=row.rule.pool_id,
            subject=row.subject,
            body_text=row.body,
            active=True,
        )
        for row in old.objects.select_related("rule").order_by("pk")
    )


def copy_back(apps, schema_editor):
    old = apps.get_model("mailboxes", "NotificationTemplate")
    rule = apps.get_model("mailboxes", "NotificationRule")
    new = apps.get_model("mailboxes", "EmailTemplate")
    edited = new.objects.filter(kind__startswith="notification.", mailbox__isnull=True)
    for row in edited.order_by("pk"):
        owner, _created = rule.objects.get_or_create(
            event=row.kind.removeprefix("notification."),
            pool_id=row.pool_id,
            defaults={"enabled": False},
        )
        old.objects.update_or_create(
            rule=owner,
            language=row.language,
            defaults={"subject": row.subject, "body": row.body_text},
        )
    # The old kind column holds 30 characters and knew only the auto-reply.
    new.objects.exclude(kind="auto_reply").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("mailboxes", "0009_suppression_bulk_mail_size_limit_attention"),
        ("tickets", "0011_delivery_delayed_activity"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="emailtemplate",
            options={
                "ordering": ["kind", "language", "pool__name", "mailbox__name"],
                "verbose_name": "email template",
                "verbose_name_plural": "email templates",
            },
        ),
        migrations.RenameField(model_name="emailtemplate", old_name="body", new_name="body_text"),
        migrations.AlterField(
            model_name="emailtemplate",
            name="body_text",
            field=models.TextField(verbose_name="text"),
        ),
        migrations.AddField(
            model_name="emailtemplate",
            name="active",
            field=models.BooleanField(default=True, verbose_name="active"),
        ),
        migrations.AddField(
            model_name="emailtemplate",
            name="body_html",
            field=models.TextField(
                blank=True,
                help_text="Empty: the mail is sent as plain text only.",
                verbose_name="HTML",
            ),
        ),
        migrations.AlterField(
            model_name="emailtemplate",
            name="kind",
            field=models.CharField(choices=KINDS, max_length=40, verbose_name="kind"),
        ),
        migrations.AlterField(
            model_name="emailtemplate",
            name="mailbox",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: every mailbox (of the pool, when one is chosen).",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="templates",
                to="mailboxes.mailbox",
                verbose_name="mailbox",
            ),
        ),
        migrations.AlterField(
            model_name="emailtemplate",
            name="pool",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: every pool.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="email_templates",
                to="tickets.pool",
                verbose_name="pool",
            ),
        ),
        migrations.AlterField(
            model_name="emailtemplate",
            name="subject",
            field=models.CharField(max_length=255, verbose_name="subject"),
        ),
        migrations.RunPython(copy_notification_templates, copy_back),
    ]
