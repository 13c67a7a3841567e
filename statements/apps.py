from django.apps import AppConfig


class StatementsConfig(AppConfig):
    """Borrowers' statements: parsing, validation, templates, preview and submission."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "statements"
    verbose_name = "Statements"
