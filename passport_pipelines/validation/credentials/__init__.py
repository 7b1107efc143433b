"""SSO Credentials: application passwords for password-vault SSO, encrypted at rest. The drop's schema
(``schema``), the private folder it waits in (``landing``), its passwords sealed right after validation
(``seal``, AES-256-GCM from ``cipher``) so no plaintext reaches disk, and written at commit (``store``)."""
