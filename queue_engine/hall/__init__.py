"""The hall's set-up: opening calendar and settings, services, counters, staff, configuration file, audit."""
