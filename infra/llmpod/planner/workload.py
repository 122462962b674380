"""The traffic a service must carry, as the planner models it (plain data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Workload:
    """Offered load: who sends what, and when.

    ``closed``: ``clients`` users, each sending its next request when the last
    one ends (a benchmark client or a chat UI); ``burst``: ``requests`` sent at
    once; ``open``: requests arriving evenly at ``rate_per_s`` (the mean of a
    Poisson stream; evenly spaced keeps the model deterministic).
    """

    kind: Literal["closed", "burst", "open"]
    prompt_tokens: int
    output_tokens: int
    clients: int = 1
    requests: int = 0
    rate_per_s: float = 0.0
    duration_s: float = 60.0
    #: Share of prompt tokens found in the prefix cache (system prompts, history).
    prefix_hit: float = 0.0
    #: Closed loops: the users' first requests spread evenly over this many seconds;
    #: 0 = all at once (a benchmark client's barrier). None: the sizing picks one
    #: request's time (chat users do not press enter together), the simulation 0.
    ramp_s: float | None = None
