"""What a response step's record may say of how it ended, beyond the evidence it found."""

from __future__ import annotations

# The summary of a step the horizon cut short (docs/response.md); scoring judges such an
# action neither right nor wrong.
HORIZON_REACHED = "horizon reached"

__all__ = ["HORIZON_REACHED"]
