"""The integration files: one district's settings as pydantic models (``integration``, ``sources``,
``destinations``, ``rules``, ``schedule``, ``change_control``, ...), read within bounds with errors that name
the file and key (``loader``, ``bounded_yaml``), ``env:VAR`` secrets, and the values checked when a file
loads (``drop_limits``, ``package_limits``, ``school_years``, ``decided_by``, ``plain_text``).
May import model, artifacts and sql (and settings, file_modes); never the store or a stage."""
