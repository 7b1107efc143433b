"""HTTP for the API connectors: retries with backoff, ``Retry-After`` and named failure kinds
(``transport``), OAuth 2.0 bearer tokens (``oauth2``) and OAuth 1.0a HMAC-SHA1 signing (``oauth1``)."""
