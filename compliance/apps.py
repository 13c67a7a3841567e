from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance: covenant tests and their results"

    def ready(self) -> None:
        # Registers the evaluation tasks, which services queue by name.
        from . import tasks  # noqa: F401
