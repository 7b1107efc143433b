"""The canonical roster model every stage shares: the pandera models (``canonical``, checked in DuckDB by
``schema_check``), the tables and their references (``entities``), DataFrames with the model's dtypes
(``frames``), school years (``school_years``), and the change set (``change_set``), which the changes stage
builds and the store commits.
May import only sql (and settings, file_modes); independent of artifacts, its neighbour in the same layer."""
