"""SSO Credentials: application passwords for password-vault SSO, encrypted at rest."""
