"""The lender portal's project package: settings, URLs, the Celery app and site pages."""

from .celery import app as celery_app

__all__ = ("celery_app",)
