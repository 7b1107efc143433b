"""Two-way sync with PowerSchool: golden values written back into the SIS, one module per step in the order
``run.write_back`` runs them: ``fields``, ``golden``, ``plan``, ``rules`` (the guard), ``attempts`` (what to
send now, after earlier write-backs), ``requests``, ``client`` (the API calls), ``results`` (the
``writeback_results`` table) and ``report``; ``records`` and ``messages`` serve ``google/`` too.
Each step is described in docs/writeback.md."""
