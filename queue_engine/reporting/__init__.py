"""Figures over time: per-day report cells, reports, the staffing plan, the live supervision view."""
