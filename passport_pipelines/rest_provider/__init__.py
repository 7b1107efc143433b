"""The OneRoster 1.2 REST provider: ``passport serve`` serves each district's golden rosters to the apps
named as ``oneroster-1.2-api`` destinations (docs/rest-api.md)."""
