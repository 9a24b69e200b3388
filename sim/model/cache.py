"""A cache's warmth: the share of its hot keys it holds. Faults empty it; answered misses
refill it; engines read it to decide hits."""

from __future__ import annotations

WARM = 0.9  # warmth at which a flushed cache counts as warm again


class CacheState:
    """How warm one cache is (1.0: every hot key present), shard by shard: its keys are
    spread evenly over its instances, and a restarted instance holds none of its own."""

    __slots__ = ("flushed_at", "keys", "name", "shards", "warmth")

    def __init__(self, name: str, keys: int, instances: int = 1) -> None:
        self.name = name
        self.keys = keys
        self.shards = [1.0] * max(1, instances)
        self.warmth = 1.0  # the mean of the shards: what a lookup reads
        self.flushed_at: float | None = None

    def fill(self, n: float, hit_ratio: float) -> None:
        """``n`` misses of a call whose warm hit ratio is ``hit_ratio`` answered and stored.

        A lookup is for a hot key with probability ``hit_ratio`` (held with probability
        ``warmth``) or for the long tail (never held); so a miss is for a hot key with
        probability h(1 − w) / (1 − h·w), and each of those adds one of ``keys``, to the
        shard that is missing it."""
        w = self.warmth
        if hit_ratio * w >= 1.0:
            return
        gained = n * hit_ratio * (1.0 - w) / (1.0 - hit_ratio * w) / self.keys
        shards = self.shards
        if w < 1.0:  # spread over the shards by what each is missing
            missing = len(shards) * (1.0 - w)
            for i, s in enumerate(shards):
                shards[i] = min(1.0, s + gained * (1.0 - s) / missing * len(shards))
        self.warmth = sum(shards) / len(shards)

    def flush(self, instance: int | None = None) -> None:
        """Lose every key (``None``), or those of one instance (a restart)."""
        if instance is None:
            self.shards = [0.0] * len(self.shards)
        elif 0 <= instance < len(self.shards):
            self.shards[instance] = 0.0
        self.warmth = sum(self.shards) / len(self.shards)
