"""What the action API's groups of calls (:mod:`.dbapi`, :mod:`.capapi`) use of
:class:`~sim.response.api.Incident`, declared once for the type checker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.response.actions import Actions
    from sim.response.evidence import Evidence
    from sim.response.running import Running


class IncidentCalls:
    """The part of :class:`~sim.response.api.Incident` a group of calls builds on."""

    sim: Running
    actions: Actions

    if TYPE_CHECKING:

        def _refuse(
            self, call: str, target: str | None, why: str, lead: str | None
        ) -> Evidence: ...

        def _look(
            self, call: str, target: str | None, read: Any, takes: float | None, lead: str | None
        ) -> Evidence: ...

        def _act(
            self,
            call: str,
            action: str,
            target: str,
            *,
            takes: float | None = None,
            lead: str | None = None,
            background: bool = False,
            detail: str = "",
        ) -> Evidence: ...
