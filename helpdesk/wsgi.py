import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
application = get_wsgi_application()

# Django, the apps and the URL conf are loaded for good: take them out of the garbage
# collector's generations, so a full collection (every few hundred requests) no longer walks
# ~100,000 objects in the middle of a request (~50 ms on a small VM). Under gunicorn's
# --preload the workers also share these pages instead of copying them.
gc.collect()
gc.freeze()
