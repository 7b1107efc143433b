"""The CSV schemas a drop may follow: OneRoster 1.1 / 1.2, Passport Basic Identity, SSO Credentials.
``registry`` says how each is recognised and read (a manifest, or a fixed set of files: ``fixed_layout``);
``templates`` and ``column_guide`` make the downloadable header-only templates."""
