"""Who may do what in a game day: roles, the kinds of command each may use, and why not.

A role holds a set of *rights*; every drill command needs one of them (or none: ``help``):

=============  ===========================================================================
``look``       the investigating commands (status, dashboard, alerts, logs, changes, deps …)
``act``        changing systems: restart, roll back, scale, fail over, flags, fixes …
``communicate``  the status page and stakeholder updates (``notify``, ``update``)
``declare``    declaring the incident, its cause, mitigation and resolution
``chat``       the incident channel (``say``, ``note``) and acknowledging the page (``ack``)
=============  ===========================================================================

The defaults follow an incident-command structure: only operations acts on systems, only
communications posts updates, the commander declares, the scribe writes the timeline. The
facilitator may change them when creating a game day. Time is the facilitator's: nobody in a
role may ``wait``, pause or quit (the facilitator runs the clock and ends the exercise), and
the facilitator's injections are theirs alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sim.drill.commands import ALIASES, BY_NAME, Command
from sim.response.api import kind_of

RIGHTS = ("look", "act", "communicate", "declare", "chat")
DEFAULT_ROLES: Mapping[str, frozenset[str]] = {
    "commander": frozenset({"look", "declare", "chat"}),
    "operations": frozenset({"look", "act", "chat"}),
    "communications": frozenset({"look", "communicate", "chat"}),
    "scribe": frozenset({"look", "chat"}),
}
ROLE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
FACILITATOR = "facilitator"

# commands no role may type: the clock and the end are the facilitator's
CLOCK = ("wait", "pause", "resume", "quit", "hint")
_KIND_RIGHT = {"observe": "look", "act": "act", "communicate": "communicate", "declare": "declare"}
_CHANNEL = {"say": "chat", "note": "chat", "ack": "chat", "declare": "declare"}


def command_of(word: str) -> Command | None:
    """The drill command a typed word names (aliases understood), or ``None``."""
    return BY_NAME.get(ALIASES.get(word, word))


def right_of(command: Command) -> str | None:
    """The right ``command`` needs; ``""`` when it needs none (``help``); ``None`` when no
    role may use it (the clock, injections)."""
    if command.name == "help":
        return ""
    if command.facilitator or command.name in CLOCK:
        return None
    if command.name in _CHANNEL:
        return _CHANNEL[command.name]
    if command.api is not None:
        return _KIND_RIGHT.get(kind_of(command.api))
    return None


def refusal(role: str, roles: Mapping[str, frozenset[str]], command: Command) -> str | None:
    """Why ``role`` may not run ``command`` (``None``: it may)."""
    right = right_of(command)
    if right is None:
        if command.name in CLOCK:
            return f"{command.name}: the facilitator runs the clock and ends the game day"
        return f"{command.name} is the facilitator's"
    if right and right not in roles[role]:
        holders = [name for name, rights in roles.items() if right in rights]
        ask = f"ask the {' or the '.join(holders)} in the channel" if holders else "no role may"
        return f"{command.name} needs the right to {right}, which the {role} does not have: {ask}"
    return None


def parse_roles(spec: Mapping[str, object]) -> dict[str, frozenset[str]]:
    """Validate ``{role: [rights]}``; raise ``ValueError`` naming the first problem."""
    if not spec:
        raise ValueError("roles: give at least one role")
    if len(spec) > 8:
        raise ValueError("roles: at most 8 roles")
    roles: dict[str, frozenset[str]] = {}
    for name, rights in spec.items():
        if not isinstance(name, str) or not ROLE_NAME.match(name) or name == FACILITATOR:
            raise ValueError(
                f"roles: {str(name)[:30]!r} is not a role name (lower-case letters, digits and "
                f"dashes, up to 24, not {FACILITATOR!r})"
            )
        if not isinstance(rights, list | tuple | set | frozenset) or not all(
            isinstance(r, str) for r in rights
        ):
            raise ValueError(f"roles.{name}: expected a list of rights ({', '.join(RIGHTS)})")
        unknown = sorted(set(rights) - set(RIGHTS))
        if unknown:
            raise ValueError(
                f"roles.{name}: unknown right {unknown[0]!r} (expected {', '.join(RIGHTS)})"
            )
        roles[name] = frozenset(rights)
    return roles


def allowed_commands(rights: frozenset[str]) -> list[Command]:
    """The commands a role with ``rights`` may type, in the help's order."""
    from sim.drill.commands import available

    return [
        c
        for c in available(facilitator=False, team=True)
        if (right := right_of(c)) is not None and (not right or right in rights)
    ]


__all__ = [
    "DEFAULT_ROLES",
    "FACILITATOR",
    "RIGHTS",
    "allowed_commands",
    "command_of",
    "parse_roles",
    "refusal",
    "right_of",
]
