from django.apps import AppConfig


class CovenantsConfig(AppConfig):
    name = "covenants"
    verbose_name = "Agreements and covenants"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the re-evaluation receivers)
