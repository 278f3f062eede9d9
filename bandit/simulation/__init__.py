"""Synthetic-shop simulator for comparing recommenders (see `world`, `recommenders`, `runner`)."""

from bandit.simulation.recommenders import (
    OracleRecommender,
    PopularityRecommender,
    RandomRecommender,
    Recommender,
    VWRecommender,
)
from bandit.simulation.runner import (
    CurvePoint,
    PolicyCurve,
    SimulationConfig,
    SimulationResult,
    format_curves,
    run_simulation,
    simulate,
)
from bandit.simulation.world import (
    DEFAULT_REWARDS,
    Outcome,
    ShopperRequest,
    World,
    WorldConfig,
)

__all__ = [
    "DEFAULT_REWARDS",
    "CurvePoint",
    "OracleRecommender",
    "Outcome",
    "PolicyCurve",
    "PopularityRecommender",
    "RandomRecommender",
    "Recommender",
    "ShopperRequest",
    "SimulationConfig",
    "SimulationResult",
    "VWRecommender",
    "World",
    "WorldConfig",
    "format_curves",
    "run_simulation",
    "simulate",
]
