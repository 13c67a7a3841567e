from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    """Documents executed by counterparts in the portal, and conditions precedent evaluated from the executions."""

    name = "execution"
    verbose_name = "Execution by counterparts and conditions precedent"

    def ready(self) -> None:
        # Who may see and execute what (the one access rule), and the reading of a condition
        # precedent's text into requirements as it is stored (the seed's loader included).
        from compliance.signals import events_recorded
        from compliance.standings import deliverable_counted

        from . import scopes, signals  # noqa: F401
        from .certificate_deadlines import CERTIFICATES
        from .certificates import certificates_supersede_changed

        # Restated figures re-evaluate; a certificate of a period whose results changed is superseded.
        events_recorded.connect(certificates_supersede_changed, dispatch_uid="execution.certificates.supersede")
        # The agreements' stored standings count late certificates beside late financials.
        deliverable_counted(CERTIFICATES)
