"""A sync's files on disk under ``$PASSPORT_HOME/artifacts`` (``layout``): tables handed between stages as
Parquet (``table_sets``), folders and zips written whole or not at all (``staged_folder``, ``folder_zip``),
stage outputs reused by content fingerprint (``fingerprints``, ``reuse``), what ended runs leave behind
swept away (``sweep``), and a full disk said as such (``disk_space``).
May import only sql (and settings, file_modes); independent of model, its neighbour in the same layer."""
