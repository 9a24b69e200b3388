"""A game day's feed: everything that happened, each entry with the audience it is meant for.

The facilitator sees every entry; a role sees the public ones and those addressed to it. What a
command printed goes only to whoever typed it (and the facilitator); the others see the one
line the incident channel shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sim.web.roles import FACILITATOR

DUPLICATE_WITHIN = 300.0  # the same command by two roles within this is duplicated work


@dataclass
class Entry:
    """One thing that happened in a game day, and who may see it.

    ``audience`` empty: everyone; otherwise only those roles (the facilitator sees every
    entry). ``output`` — what a command printed — goes only to whoever typed it and the
    facilitator; everyone else sees ``text``, the one line the channel shows.
    """

    seq: int
    wall: float
    t: float
    kind: str  # page | command | refused | help | injection | hint | clock | ended
    by: str
    text: str
    audience: tuple[str, ...] = ()
    line: str = ""
    output: str = ""
    steps: tuple[int, int] = (0, 0)  # the incident steps this command added: [first, end)

    def visible_to(self, who: str) -> bool:
        return who == FACILITATOR or not self.audience or who in self.audience

    def view(self, who: str, clock: Callable[[float], str]) -> dict[str, Any]:
        """The entry as ``who`` may see it (``who`` must be able to see it at all)."""
        mine = who in (FACILITATOR, self.by) or self.kind == "page"
        return {
            "seq": self.seq,
            "t": self.t,
            "clock": clock(self.t),
            "kind": self.kind,
            "by": self.by,
            "text": self.text,
            "line": self.line if mine else "",
            "output": self.output if mine else "",
            "private": bool(self.audience),
        }

    def to_record(self) -> dict[str, Any]:
        data = asdict(self)
        data["audience"] = list(self.audience)
        data["steps"] = list(self.steps)
        return data

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Entry:
        fields = dict(data)
        fields["audience"] = tuple(fields.get("audience") or ())
        fields["steps"] = tuple(fields.get("steps") or (0, 0))
        return cls(**fields)


__all__ = ["DUPLICATE_WITHIN", "Entry"]
