"""The CSV schemas a drop may follow: OneRoster 1.1 / 1.2, Passport Basic Identity, SSO Credentials."""
