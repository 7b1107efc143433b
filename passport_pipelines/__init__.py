"""Passport Data Sync: a roster data hub for K-12 districts, orchestrated by Dagster."""
