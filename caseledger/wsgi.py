"""WSGI entry point (gunicorn caseledger.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseledger.settings")
application = get_wsgi_application()
