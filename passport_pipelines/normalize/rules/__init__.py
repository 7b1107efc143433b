"""A source's integration rules applied to its canonical tables in DuckDB (``apply``), in the order
``config/rules.py`` documents: attribute mapping and transforms (``attributes``, ``transformations``,
``unique_values``), ``filters`` and ``requirements``, the ``schools`` mapping, and a last step that drops what
was left out (``left_out``, ``finish``), with counts of what each rule did (``counts``)."""
