"""The sections of the post-mortem, one module per part of it, each a function of a ``RunContext``.

``sim.report.build.build_report`` puts them in order. They only lay out text: every number
comes from the journal or its scorecard, and the judgements ("what went well", "action
items") are rules over those numbers with the thresholds named in ``context``.
"""
