"""The history generator (``flask simulate``): past business days made through the engine.

``history.simulate`` runs the days, ``day.SimulatedDay`` the events of one day, ``model`` holds
the figures, ``guard`` refuses a hall in use.
"""

from queue_engine.simulation.guard import HallInUse, real_activity
from queue_engine.simulation.history import simulate
from queue_engine.simulation.model import SimulationResult, SimulationSettings

__all__ = ["HallInUse", "SimulationResult", "SimulationSettings", "real_activity", "simulate"]
