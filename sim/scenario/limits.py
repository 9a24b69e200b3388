"""The limits of scenario and runbook files: how big a file may be, how far YAML may nest and
expand, and the bounds on every number that drives a run's work (docs/scenarios.md, "Limits").

Each figure is generous for real use (the shipped scenarios sit far inside every one) and small
enough that any file is answered within a few seconds (an alias bomb within milliseconds) and
a valid one runs in bounded time and memory. The reader, the schema and pass two's work
checks (:mod:`sim.scenario.budget`) read them from here.
"""

from __future__ import annotations

DAY = 86_400.0

# Reading.
MAX_FILE_BYTES = 1 << 20  # 1 MiB
MAX_NESTING = 64  # levels of lists and mappings, aliases expanded
MAX_VALUES = 50_000  # keys, values and items of the document, aliases expanded
MAX_EXTENDS = 8  # files in a chain of scenarios extending one another

# Time.
MAX_DURATION = 366 * DAY  # any duration
MAX_HORIZON = 30 * DAY
MIN_WINDOW = 1  # seconds, the metrics window (at most the horizon)
MIN_INTERVAL = 1  # seconds between health checks, between probes
MAX_WINDOWS = 300_000  # metrics windows in the horizon: 30 days of 10 s windows
MAX_THINK_TIME = 60  # seconds, a shopper's mean think time

# Traffic.
MAX_ARRIVAL_RATE = 1_000  # simulated sessions per second at curve 1.0
MAX_PEAK_RATE = 1_000  # the same at the daily curve's peak, the surges at their highest
MAX_REPRESENTS = 1_000_000
MAX_CURVE = 100  # a daily-curve multiplier
MAX_SURGE = 100  # a surge's factor
MAX_SURGES = 100
MAX_FUNNEL_STEPS = 20
MAX_GIVE_UP_AFTER = 10
MAX_WEIGHT = 1_000_000  # a region, device or scoring weight
MAX_ORDER_VALUE = 1_000_000_000

# The shop.
MAX_COMPONENTS = 200
MAX_ENDPOINTS = 200
MAX_DEPENDENCIES = 1_000
MAX_REGIONS = 50
MAX_REPLICAS = 1_000
MAX_CHAIN = 24  # components in a dependency chain or down an endpoint's call tree
MAX_CONCURRENCY = 10_000  # per replica
MAX_QUEUE_LIMIT = 1_000_000  # per replica
MAX_POOL = 10_000  # connections per caller replica
MAX_RETRY_MULTIPLIER = 10
MAX_CHECKS = 100  # health checks before ejection or re-admission
MAX_BREAKER_CALLS = 1_000_000
MAX_FACTOR = 1_000  # a latency fault's or a red herring's slowdown

# Events and signals.
MAX_CHANGES = 1_000
MAX_FAULTS = 100
MAX_ACTIONS = 1_000
MAX_MONITORS = 200
MAX_RED_HERRINGS = 100
MAX_ROTATION = 100  # engineers on the paging rotation
MAX_LOG_BUDGET = 1_000_000  # log lines kept
MAX_LINES_PER_MINUTE = 600  # background noise per component, a red herring's log noise
MAX_RUNBOOK_STEPS = 200  # in each of a runbook's steps, loop and close

# The work budget: simulated calls, estimated as arrival rate × daily-curve peak × the horizon
# (each surge's time weighted by its factor) × calls per session (every funnel step's call
# tree, as if every shopper went through the whole funnel). The estimate runs at ~650,000 a
# second in the request engine, so the budget is about half an hour of it; the seed scenario
# needs 0.09 % of it for its 2 hours, 34 % for 30 days.
WORK_BUDGET = 1e9
