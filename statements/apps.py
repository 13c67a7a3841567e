from django.apps import AppConfig


class StatementsConfig(AppConfig):
    """Borrowers' statements: parsing, validation, templates, preview and submission."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "statements"
    verbose_name = "Statements"

    def ready(self) -> None:
        # Registers who sees statements and their files with the access rule.
        from . import scopes  # noqa: F401
