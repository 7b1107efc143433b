"""The OneRoster 1.2 REST provider: ``passport serve`` serves each district's golden rosters to the apps named
as ``oneroster-1.2-api`` destinations (docs/rest-api.md): tokens and API clients, endpoints, query
parameters and pages over per-app snapshots of the version in production, and usage counts.
May import assets, sensors, jobs and every layer below (today delivery, store, config, sql); never cli,
nor definitions, its neighbour in the same layer."""
