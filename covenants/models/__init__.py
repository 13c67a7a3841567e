"""The covenants app's models, one module per aggregate: what was agreed. Statements live in
``statements.models``, results in ``compliance.models`` and alerts in ``alerts.models``."""

from .agreements import *  # noqa: F403
from .agreements import __all__ as _agreements
from .terms import *  # noqa: F403
from .terms import __all__ as _terms
from .waivers import *  # noqa: F403
from .waivers import __all__ as _waivers

__all__ = [*_agreements, *_terms, *_waivers]
