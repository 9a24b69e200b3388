"""Mechanisms: how the data tier changes with time and traffic, so that the world decides
how long things last (docs/mechanisms.md).

A mechanism changes state (:mod:`sim.model.data`) as faults and actions do, and engines only
read it; the journal says for each remedy whether a mechanism or a constant decided its
length.
"""
