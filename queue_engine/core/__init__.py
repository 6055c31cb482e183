"""The engine's ground: models, database set-up, the clock, domain errors, look-ups, the event log."""
