from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """Agreements' texts: stored as filed, and read into proposals (documents.importer)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        # Registers who sees the stored texts with the access rule.
        from . import scopes  # noqa: F401
