"""The covenants app's models, one module per aggregate."""

from .agreements import *  # noqa: F403
from .agreements import __all__ as _agreements
from .alerts import *  # noqa: F403
from .alerts import __all__ as _alerts
from .results import *  # noqa: F403
from .results import __all__ as _results
from .statements import *  # noqa: F403
from .statements import __all__ as _statements
from .terms import *  # noqa: F403
from .terms import __all__ as _terms
from .waivers import *  # noqa: F403
from .waivers import __all__ as _waivers

__all__ = [*_agreements, *_terms, *_statements, *_results, *_waivers, *_alerts]
