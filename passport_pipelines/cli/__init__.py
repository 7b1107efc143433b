"""The ``passport`` command (``main``): one module per command or group (sync, validate, approve / reject,
changes, history / download, duplicates, integrations, templates, test-connection, api-clients, serve, ui),
the Dagster instance they use (``environment``) and how a sync is launched, queued or in this process
(``sync_launch``). The top layer: may import every other part of the package, and nothing imports it."""
