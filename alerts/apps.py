from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Alerts: raising them from compliance events, delivering them (inbox, e-mail, webhooks)."""

    name = "alerts"
    verbose_name = "Alerts and their delivery"

    def ready(self) -> None:
        # Registers the delivery tasks (queued by name) and who sees alerts; evaluation sends
        # events_recorded inside its transaction, and the alerts they raise are stored in it.
        from compliance.signals import events_recorded

        from . import scopes, tasks  # noqa: F401
        from .raising import alerts_raise_for_recorded_events

        events_recorded.connect(alerts_raise_for_recorded_events, dispatch_uid="alerts.raising.raise_for_events")
