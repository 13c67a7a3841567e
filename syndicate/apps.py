from django.apps import AppConfig


class SyndicateConfig(AppConfig):
    """The syndicate: Lenders' commitments and voting shares, and consent requests put to them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "syndicate"
    verbose_name = "Syndicate: commitments and consents"

    def ready(self) -> None:
        # Registers who sees commitments, tallies and votes with the one access rule.
        from . import scopes  # noqa: F401
