"""Edupoint Synergy SIS through its OneRoster API: ``SynergyConnector`` in ``connector``."""
