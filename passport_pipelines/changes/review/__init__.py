"""Verifying a version's changes record by record, before approving it or after committing it:
``review.review_version`` lists what a held, previewed or committed version adds, updates and deletes, from a
held version's stashed change set (``held``) or the golden store (``committed``), personal values masked
(``personal``). Shown by ``passport changes`` and in the ``sync_hold`` check of a held sync."""
