"""Interactive drill: a trainee takes the pager in the terminal.

The trainee drives an incident through the same action API as the modelled responders
(:class:`sim.response.api.Incident`), one typed command at a time; the session is recorded
and can be replayed byte for byte (``chaosdrill replay``). Guides: docs/drill-trainee.md and
docs/drill-facilitator.md.
"""

from sim.drill.core import Drill
from sim.drill.session import Session, SessionError, load

__all__ = ["Drill", "Session", "SessionError", "load"]
