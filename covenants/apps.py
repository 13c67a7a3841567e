from django.apps import AppConfig


class CovenantsConfig(AppConfig):
    name = "covenants"
    verbose_name = "Agreements and covenants"

    def ready(self) -> None:
        # Connects the re-evaluation receivers and registers who sees the agreements' rows.
        from . import signals  # noqa: F401
        from .access import scopes  # noqa: F401
