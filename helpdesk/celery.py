import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def load_language_models(**_kwargs):
    """Load the language identifier and dictionaries once, before the pool forks.

    Otherwise each worker process would spend seconds loading them on its first mail, and
    the children share the parent's copy instead of holding one each.
    """
    from people.language import preload

    preload()
