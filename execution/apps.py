from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    """Documents executed by counterparts in the portal, and conditions precedent evaluated from the executions."""

    name = "execution"
    verbose_name = "Execution by counterparts and conditions precedent"

    def ready(self) -> None:
        # Who may see and execute what (the one access rule), and the reading of a condition
        # precedent's text into requirements as it is stored (the seed's loader included).
        from . import scopes, signals  # noqa: F401
