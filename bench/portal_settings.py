"""The portal's own settings, plus the traceback of every request that ended in a 500 on the console.

For the benchmarks only (bench/common.portal(log_request_errors=True)): with DEBUG off Django hands
request errors to `mail_admins` alone, and the portal's LOGGING does not route `django.request`, so a
500 would leave nothing in gunicorn's log to say what went wrong.
"""

from submitportal.settings import *  # noqa: F403
from submitportal.settings import LOGGING

LOGGING["loggers"]["django.request"] = {"handlers": ["console"], "level": "ERROR", "propagate": False}
