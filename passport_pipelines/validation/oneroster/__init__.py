"""Validating a CSV drop, whatever its schema (``validation.validate_package``): the package (a folder or
zip, its own files only, within limits), the manifest, header rows, each file read as text columns
(``reader``), per-column value rules and references in vectorized SQL, the school year, and the
``findings`` (totals per rule plus the first rows, personal values masked). What the OneRoster 1.1 / 1.2
CSV bindings require is in ``spec`` and ``gradebook_files``."""
