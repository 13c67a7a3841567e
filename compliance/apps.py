from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance: covenant tests and their results"

    def ready(self) -> None:
        # Registers the evaluation tasks, which are queued by name, and who sees results.
        from . import scopes, tasks  # noqa: F401
