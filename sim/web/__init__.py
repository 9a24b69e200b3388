"""Game days in the browser (``chaosdrill serve``): a team in roles takes one drill together.

:mod:`sim.web.roles` (who may do what), :mod:`sim.web.feed` (what happened, and for
whom), :mod:`sim.web.gameday` (one game day: the drill, the
feed, the clock), :mod:`sim.web.scorecard`, :mod:`sim.web.store` (SQLite),
:mod:`sim.web.games` (a server's game days) and :mod:`sim.web.app` (the FastAPI app).
"""
