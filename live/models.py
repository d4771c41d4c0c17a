from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LiveEvent(models.Model):
    """One published event, for the database backend (no Redis): the stream servers read the
    new rows every few hundred milliseconds and a periodic task deletes the old ones."""

    topic = models.CharField(_("topic"), max_length=200)
    event = models.CharField(_("event"), max_length=100)
    # The JSON text as published: the stream server passes it on without decoding it.
    data = models.TextField(_("data"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("live event")
        verbose_name_plural = _("live events")

    def __str__(self):
        return f"{self.topic} {self.event}"
