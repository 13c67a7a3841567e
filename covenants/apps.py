from django.apps import AppConfig


class CovenantsConfig(AppConfig):
    name = "covenants"
    verbose_name = "Agreements and covenants"

    def ready(self) -> None:
        # Connects the re-evaluation receivers, and registers the tasks that services queue by name.
        from . import signals, tasks  # noqa: F401
