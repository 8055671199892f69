"""What the console, `status` and the CLI show of a state: the engine's figures and decisions,
with the recommended action, the path to GO's first step, attached.

The planner finds that path by re-running the engine on copies of the state, so the engine
cannot ask the planner: the two meet here, above both.
"""

from __future__ import annotations

from .engine import evaluate
from .models import Catalog, Evaluation, State
from .plan import recommend


def assess(catalog: Catalog, state: State) -> Evaluation:
    """`engine.evaluate`, with the planner's recommended action."""
    ev = evaluate(catalog, state)
    return ev._replace(recommended=recommend(catalog, state, ev))
