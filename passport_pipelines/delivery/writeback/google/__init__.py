"""Two-way sync with Google Workspace (``google-workspace`` destinations): accounts created, updated and
suspended, never deleted, from the golden users through the Admin SDK Directory API. Steps as for
PowerSchool: ``fields``, ``plan``, ``rules`` (the guard), ``client`` (``users.insert``, ``users.patch``),
``run``; retries, result rows and reports are the parent package's (``attempts``, ``records``, ``results``,
``report``). See docs/writeback.md."""
