"""Verifying a version's changes record by record, before approving it or after committing it.

``review.review_version`` lists what a held, previewed or committed version adds, updates (field: old
-> new) and deletes, with totals; ``held`` reads a held version's stashed change set, ``committed``
the golden store's change log and tables; ``personal`` says which values are masked. Shown by
``passport changes`` and embedded (first records, masked) in the ``sync_hold`` check of a held sync.
"""
