"""WSGI entry point: gunicorn submitportal.wsgi (see the README)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "submitportal.settings")
application = get_wsgi_application()
