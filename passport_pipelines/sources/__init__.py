"""Where a sync's data comes from. API sources: one connector per kind (``powerschool/``, ``oneroster_api/``,
``synergy/``, ``xpress/``, ``google_workspace/``) behind ``base.SourceConnector``, on shared HTTP helpers
(``http/``), writing what the API returned into raw tables (``raw_tables``); ``registry`` binds each kind to
its resource. CSV drops: a year's location and the SFTP fetch (``drops/``).
May import store and the layers below it; never validation or anything above."""
