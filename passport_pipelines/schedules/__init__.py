"""Dagster schedules: unattended syncs of every district by its own schedule."""
