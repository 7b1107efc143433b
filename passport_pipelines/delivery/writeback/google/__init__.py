"""Two-way sync with Google Workspace: accounts created, updated and suspended (never deleted) from the
golden users, through the Admin SDK Directory API (``google-workspace`` destinations).

One module per step, as for PowerSchool (``writeback/``): ``plan`` (what Google should hold, from the
other sources' golden people and the Google source's own accounts), ``rules`` (the guard),
``client`` (``users.insert`` and ``users.patch``), ``run`` (decisions, sending, results). The
decisions on retries, the ``writeback_results`` rows and the reports are the PowerSchool write-back's
(``attempts``, ``records``, ``results``, ``report``). See docs/writeback.md.
"""
