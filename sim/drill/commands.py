"""The drill's commands: names, arguments, help, and how a typed line splits into them.

Every investigating or acting command is one call of the action API
(:class:`sim.response.api.Incident`) and costs the simulated time that call costs; the rest
(``help``, ``hint``, ``pause`` …) cost none. This table is the single source of the help
text, the tab completion and the parser.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from sim.response.api import COSTS

# What an argument names, for validation and completion.
#   component | change | cause | target | flag: a name the trainee can see (changes and their
#   flags: applied ones)
#   message | yaml: the rest of the line, as typed
#   duration: 90s, 5m, 1h30m    command: a command name    none: no argument
ARGS = (
    "none",
    "component",
    "change",
    "cause",
    "target",
    "flag",
    "message",
    "duration",
    "command",
    "yaml",
)


@dataclass(frozen=True)
class Command:
    """One command of the drill prompt."""

    name: str
    usage: str
    summary: str
    detail: str = ""
    arg: str = "none"
    optional: bool = False  # the argument may be left out
    api: str | None = None  # the Incident method called (None: costs no simulated time)
    facilitator: bool = False  # only with --facilitator
    team: bool = False  # only in a team drill (a game day: `chaosdrill serve`)

    @property
    def cost(self) -> str:
        """Typical simulated time, for help."""
        if self.api is None:
            return "no simulated time"
        if self.api == "wait":
            return "the duration given"
        if self.api in COSTS:
            return f"about {COSTS[self.api]:.0f}s of simulated time"
        return f"about {COSTS['act']:.0f}s to start, then the action's own running time"


COMMANDS: tuple[Command, ...] = (
    # -- look ---------------------------------------------------------------------------------
    Command(
        "status",
        "status",
        "regional or global? which endpoints fail, per region, since when",
        "Synthetic checks by region and the endpoints failing above the error threshold.",
        api="status",
    ),
    Command(
        "dashboard",
        "dashboard",
        "charts of the last 30 minutes: failures, latency, orders, lost revenue",
        "Sparklines per endpoint (failed share, p95 latency, traffic) and for the business "
        "(orders against normal, failed checkouts, lost revenue), one bar per minute.",
        api="dashboard",
    ),
    Command("alerts", "alerts", "alerts firing now", api="alerts"),
    Command(
        "logs",
        "logs [COMPONENT] [--grep TEXT]",
        "new error signatures since the trouble began, and the loudest warnings",
        "With COMPONENT, only that component's logs. With --grep TEXT, also the latest kept "
        "log lines whose message contains TEXT (case-insensitive).",
        arg="component",
        optional=True,
        api="logs",
    ),
    Command(
        "changes",
        "changes [COMPONENT]",
        "the change log as applied: deploys, migrations, config changes, notices",
        "The last six hours, newest first, with the tables a migration touches. With "
        "COMPONENT, that component's own history instead: every change that touched it, "
        "including those made outside the change log (by an automation, a customer).",
        arg="component",
        optional=True,
        api="changes",
    ),
    Command(
        "deps",
        "deps [COMPONENT]",
        "health of every component (or of one and what it calls); the deepest failing",
        "Failed share, p95 against normal, instances in rotation and how busy each is.",
        arg="component",
        optional=True,
        api="deps",
    ),
    Command(
        "db",
        "db [DATABASE]",
        "query a database: long statements, who waits for whose lock, connections, replication, "
        "sequences",
        "Like pg_stat_activity, pg_locks and pg_stat_replication (only for a database with a "
        "data tier).",
        arg="component",
        optional=True,
        api="db",
    ),
    Command(
        "capacity",
        "capacity [COMPONENT]",
        "instances, scaling policies and their activity, the account's quota",
        "What the cloud console shows: in service and launching, the policy's latest "
        "datapoints, launches, terminations and refusals with the provider's error.",
        arg="component",
        optional=True,
        api="capacity",
    ),
    Command(
        "net",
        "net",
        "network checks: edge latency by region, packet loss, maintenance notices",
        api="net",
    ),
    Command(
        "lb",
        "lb",
        "load-balancer checks: backends in rotation, its recent config changes",
        api="lb",
    ),
    Command("thirdparty", "thirdparty", "vendors' status pages", api="thirdparty"),
    # -- act ----------------------------------------------------------------------------------
    Command(
        "restart",
        "restart COMPONENT",
        "rolling restart of a component (instances go down one at a time)",
        arg="component",
        api="restart",
    ),
    Command(
        "cancel",
        "cancel WORK",
        "cancel a long-running statement: a migration (its change id), a query (its id) or a pid",
        "pg_cancel_backend: it lets go of its locks; `db` lists what runs and who waits.",
        arg="target",
        api="cancel",
    ),
    Command(
        "drain",
        "drain DATABASE",
        "take every replica of a database out of the read rotation (they recover and warm)",
        "Reads fail meanwhile unless the primary takes them; `db` shows the replicas' state.",
        arg="component",
        api="drain",
    ),
    Command(
        "add_back",
        "add_back DATABASE",
        "put a database's drained replicas back into the read rotation, all at once",
        arg="component",
        api="add_back",
    ),
    Command(
        "promote",
        "promote DATABASE",
        "make the replica furthest ahead the primary (it replays what it lacks first)",
        "For a primary that is gone: minutes, where a restore from a backup takes hours. "
        "`db` shows each replica's lag.",
        arg="component",
        api="promote",
    ),
    Command(
        "analyze",
        "analyze DATABASE",
        "ANALYZE the tables whose planner statistics are missing (slow queries after a type change or a major upgrade)",
        arg="component",
        api="analyze",
    ),
    Command(
        "read_only",
        "read_only DATABASE",
        "make a database refuse writes while reads go on",
        arg="component",
        api="read_only",
    ),
    Command(
        "read_write",
        "read_write DATABASE",
        "let a read-only database take writes again",
        arg="component",
        api="read_write",
    ),
    Command(
        "retry",
        "retry MIGRATION",
        "run a migration again with a lock timeout (it applies, or gives up fast)",
        arg="change",
        api="retry",
    ),
    Command(
        "rollback",
        "rollback CHANGE",
        "roll back a deploy, a migration or a config change (an id from `changes`)",
        arg="change",
        api="rollback",
    ),
    Command(
        "isolate",
        "isolate COMPONENT",
        "disable a component: every call to it fails fast",
        arg="component",
        api="isolate",
    ),
    Command(
        "restore",
        "restore COMPONENT",
        "undo an isolation",
        arg="component",
        api="restore",
    ),
    Command(
        "failover",
        "failover COMPONENT",
        "switch to a standby (a database replica, a second payment provider)",
        arg="component",
        api="failover",
    ),
    Command(
        "failover_region",
        "failover_region REGION",
        "move a region's shoppers to another region (a DNS change)",
        "They move as their resolvers' cached answers expire, evenly over the shop's DNS TTL; "
        "the step ends when the last has moved. The other regions then carry their load.",
        arg="region",
        api="failover_region",
    ),
    Command(
        "scale",
        "scale COMPONENT [N]",
        "add capacity to a component (half as much again), or scale it to N instances",
        "Where capacity is managed (a scaling policy, an account quota) it launches instances: "
        "they boot before they serve, and the quota may refuse them. With N, the missing "
        "instances are launched or the extra ones terminated at once (within the scaling "
        "policy's min and max); a database gains replicas one at a time, without N.",
        arg="component",
        api="scale_out",
    ),
    Command(
        "raise_quota",
        "raise_quota COMPONENT",
        "ask the provider to raise the account's instance quota (a support case: takes a while)",
        arg="component",
        api="raise_quota",
    ),
    Command(
        "suspend_scaling",
        "suspend_scaling COMPONENT",
        "suspend a component's scaling policy (it keeps the instances it has)",
        arg="component",
        api="suspend_scaling",
    ),
    Command(
        "change_scaling",
        "change_scaling COMPONENT [min=N] [max=N] [target=X]",
        "change a component's scaling policy: its fewest and most instances, or its target",
        "A config change of the policy (30 s); the policy tracks the new one from its next "
        "datapoint. `capacity` shows each policy's metric, target, min and max.",
        arg="component",
        api="change_scaling",
    ),
    Command(
        "escalate",
        "escalate LINK",
        "escalate a saturated link to its vendor: they double it, in their own time",
        "`net` shows each link's utilisation, loss and added latency.",
        arg="component",
        api="escalate",
    ),
    Command(
        "toggle_flag",
        "toggle_flag FLAG",
        "turn a feature flag off: the kill switch of the change behind it, everywhere in seconds",
        "`changes` shows which change sits behind which flag, and how far a staged rollout "
        "has got; turning its flag off also stops the rollout where it is.",
        arg="flag",
        api="toggle_flag",
    ),
    Command(
        "free_disk",
        "free_disk COMPONENT",
        "delete what fills a component's disks on every instance (old logs, temporary files)",
        "Instances whose disk is full fail every call with `No space left on device` (the "
        "logs say so); freeing the disks does not stop what fills them.",
        arg="component",
        api="free_disk",
    ),
    Command(
        "disable_checks",
        "disable_checks COMPONENT",
        "turn the balancer's health checks of a component off: every instance back in rotation",
        "For checks that eject instances that are up but slow (`lb` shows them out of "
        "rotation); a crashed instance then gets its share of calls too. `enable_checks` "
        "turns them back on.",
        arg="component",
        api="disable_checks",
    ),
    Command(
        "enable_checks",
        "enable_checks COMPONENT",
        "turn a component's health checks back on",
        arg="component",
        api="enable_checks",
    ),
    Command(
        "shed_load",
        "shed_load COMPONENT",
        "shed load at a component: refuse at once what it cannot start soon",
        "Each instance then queues no more than one round of work (its concurrency): an "
        "overloaded tier fails fast instead of making every caller wait out its timeout. "
        "`stop_shedding` undoes it.",
        arg="component",
        api="shed_load",
    ),
    Command(
        "stop_shedding",
        "stop_shedding COMPONENT",
        "stop shedding load at a component",
        arg="component",
        api="stop_shedding",
    ),
    Command(
        "resume_scaling",
        "resume_scaling COMPONENT",
        "resume a suspended scaling policy",
        arg="component",
        api="resume_scaling",
    ),
    Command(
        "fix",
        "fix TARGET",
        "deploy compatible code for the declared cause (diagnose first)",
        "TARGET is a component or a change id; the fix takes a while to build and roll out.",
        arg="target",
        api="fix",
    ),
    # -- declare and communicate --------------------------------------------------------------
    Command(
        "diagnose",
        "diagnose CAUSE",
        "declare the cause: a change id, a component, a database's table, a long-running "
        "query (by its id), `network` or `lb`",
        arg="cause",
        api="diagnose",
    ),
    Command(
        "notify",
        "notify [MESSAGE]",
        "post to the status page (users); without MESSAGE, a draft from the dashboards",
        arg="message",
        optional=True,
        api="notify",
    ),
    Command(
        "update",
        "update [MESSAGE]",
        "update stakeholders (support, business); without MESSAGE, a draft with the impact",
        arg="message",
        optional=True,
        api="update",
    ),
    Command(
        "wait",
        "wait [DURATION]",
        "let simulated time pass (default 5m): watch a rollout, let things settle",
        "DURATION like 90s, 5m, 1h30m.",
        arg="duration",
        optional=True,
        api="wait",
    ),
    Command(
        "mitigated",
        "mitigated",
        "declare the user-facing impact over",
        api="mitigated",
    ),
    Command(
        "resolve",
        "resolve",
        "declare the incident resolved (cause removed and verified); ends the drill",
        api="resolved",
    ),
    # -- the incident channel ----------------------------------------------------------------
    Command(
        "note",
        "note MESSAGE",
        "write a line in the incident timeline (it goes into the post-mortem)",
        arg="message",
    ),
    Command(
        "say",
        "say MESSAGE",
        "write in the incident channel, to the whole team",
        arg="message",
        team=True,
    ),
    Command(
        "declare",
        "declare [MESSAGE]",
        "declare the incident and take command of it (the incident commander)",
        arg="message",
        optional=True,
        team=True,
    ),
    Command(
        "ack",
        "ack",
        "acknowledge the page (until someone does, it escalates to the secondary)",
    ),
    # -- the drill itself ---------------------------------------------------------------------
    Command(
        "hint",
        "hint",
        "ask the facilitator for a hint (from the telemetry; each one costs score)",
    ),
    Command("pause", "pause", "stop the clock (with --realtime)"),
    Command("resume", "resume", "start the clock again (with --realtime)"),
    Command(
        "help", "help [COMMAND]", "list the commands, or explain one", arg="command", optional=True
    ),
    Command("quit", "quit", "end the drill now: scorecard, report and session are written"),
    Command(
        "inject-fault",
        "inject-fault {id: ..., type: ..., ...}",
        "start an extra fault now (facilitator)",
        "One fault entry in the scenario file's syntax, on one line (YAML flow style), e.g. "
        "{id: cache-down, type: crash, target: cache}. It starts now; `start` is ignored.",
        arg="yaml",
        facilitator=True,
    ),
    Command(
        "inject-herring",
        "inject-herring {id: ..., kind: ..., ...}",
        "start an extra red herring now (facilitator)",
        "One red_herrings item in the scenario file's syntax, on one line, e.g. "
        "{id: noisy-cart, kind: log_noise, target: cart, message: 'cache miss storm', "
        "rate: 30, duration: 20m}. It starts now.",
        arg="yaml",
        facilitator=True,
    ),
)

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
ALIASES: dict[str, str] = {
    "exit": "quit",
    "?": "help",
    "resolved": "resolve",
    "scale-out": "scale",
    "scale_out": "scale",
    "3rdparty": "thirdparty",
    "dash": "dashboard",
}


def available(facilitator: bool, team: bool = False) -> list[Command]:
    """The commands this drill offers (a team drill: also ``say`` and ``declare``)."""
    return [c for c in COMMANDS if (facilitator or not c.facilitator) and (team or not c.team)]


@dataclass(frozen=True)
class Parsed:
    """A typed line, split: the command word (as typed, lower-cased), its words and rest."""

    word: str
    args: tuple[str, ...]
    rest: str


def split(line: str) -> Parsed | None:
    """``None`` for an empty line or a comment; otherwise the command word and its arguments.

    Arguments are split like a shell would (quotes group words); a line with unbalanced
    quotes falls back to splitting on spaces. ``rest`` is everything after the command word,
    untouched (messages and injected YAML are taken from it).
    """
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    word, _, rest = text.partition(" ")
    rest = rest.strip()
    try:
        args = tuple(shlex.split(rest))
    except ValueError:
        args = tuple(rest.split())
    return Parsed(word.lower(), args, rest)


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (an echo must not drive the terminal)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


__all__ = [
    "ALIASES",
    "ARGS",
    "BY_NAME",
    "COMMANDS",
    "Command",
    "Parsed",
    "available",
    "printable",
    "split",
]
