"""OneRoster 1.1 / 1.2 REST connector: ``OneRosterApiConnector`` in ``connector``."""
