from django.apps import AppConfig

from compliance.signals import events_recorded


class CovenantsConfig(AppConfig):
    name = "covenants"
    verbose_name = "Agreements and covenants"

    def ready(self) -> None:
        # Connects the re-evaluation receivers, and registers the tasks that services queue by name.
        from . import signals, tasks  # noqa: F401
        from .alerts import alerts_raise_for_recorded_events

        # Evaluation records events; the alerts they raise are stored in the same transaction.
        events_recorded.connect(alerts_raise_for_recorded_events, dispatch_uid="covenants.alerts.raise_for_events")
