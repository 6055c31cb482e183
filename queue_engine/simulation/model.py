"""The figures of the simulated hall: arrival profile, visitor behaviour by category, settings."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date

from queue_engine.core.kinds import Category
from queue_engine.core.models import Service

# Relative arrival intensity by local hour (the hall's busy mornings and mid-afternoons).
HOUR_PROFILE = {
    7: 0.3,
    8: 0.8,
    9: 1.3,
    10: 1.5,
    11: 1.2,
    12: 0.7,
    13: 0.8,
    14: 1.2,
    15: 1.3,
    16: 1.0,
    17: 0.5,
}
WEEKDAY_FACTOR = (1.15, 1.0, 0.95, 1.0, 1.1, 0.7, 0.6)
DEFAULT_OPENING = (("08:30", "17:30"),)


@dataclass(frozen=True)
class ServiceProfile:
    """How visitors of one category of service behave."""

    share: float  # of the arrivals, before normalising over the hall's services
    mean_service_s: float
    spread: float  # sigma of the log-normal service time
    transfer_to: str | None = None  # category
    transfer_p: float = 0.0


PROFILES = {
    Category.INQUIRY: ServiceProfile(35, 180, 0.6, Category.TRANSACTION, 0.06),
    Category.TRANSACTION: ServiceProfile(40, 480, 0.5, Category.COMPLAINT, 0.01),
    Category.COMPLAINT: ServiceProfile(5, 720, 0.45),
    Category.OTHER: ServiceProfile(20, 120, 0.5),
}


@dataclass(frozen=True)
class SimulationSettings:
    """What to simulate and how busy the hall is."""

    days: int = 30
    seed: int = 1
    end: date | None = None  # last simulated day; default: yesterday in the hall's timezone
    load: float = 0.9  # peak-hour arrivals / capacity of the counters open
    absence_p: float = 0.08
    no_show_p: float = 0.04
    impatient_p: float = 0.3
    patience_mean_min: float = 40
    rating_p: float = 0.65
    complaint_p: float = 0.01
    overtime_min: int = 30
    walk_s: float = 35
    gap_s: tuple[float, float] = (5, 25)
    booked_p: float = 0.2  # of the arrivals for a bookable service: booked ahead, checked in
    booked_early_min: tuple[float, float] = (-20, 10)  # check-in relative to the slot's start


@dataclass
class SimulationResult:
    """What was made."""

    days: list[date] = field(default_factory=list)
    skipped: list[date] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        """Count something that happened."""
        self.counts[name] = self.counts.get(name, 0) + n


def profile(service: Service) -> ServiceProfile:
    """The behaviour of visitors of ``service`` (by its category)."""
    for category, found in PROFILES.items():
        if service.category == category:
            return found
    return PROFILES[Category.OTHER]


def lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    """A log-normal draw with the given mean."""
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)
