"""NotificationTemplate's texts now live in EmailTemplate (copied by 0010)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("mailboxes", "0010_one_email_template"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="notificationtemplate",
            name="notification_template_lang",
        ),
        migrations.DeleteModel(name="NotificationTemplate"),
    ]
