import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Under ASGI each request's synchronous code runs in a thread that ends with the request, so
# a connection kept for reuse would be left open behind it: close each at the request's end
# (Django's advice for ASGI). On PostgreSQL the process keeps a pool of connections instead
# of opening a session per request (DATABASE_POOL, helpdesk/settings.py).
os.environ.setdefault("CONN_MAX_AGE", "0")
os.environ.setdefault("DATABASE_POOL", "true")
django.setup(set_prefix=False)

from live.asgi import HelpdeskASGIHandler  # noqa: E402

# The live app's streams cost no thread each (live/asgi.py); everything else is Django's.
application = HelpdeskASGIHandler()
