"""Duplicates in a sync: the person records it searches (``person_records``, ``sync_people``,
``people_cache``), its merges and review cases (``sync_duplicates``; ``record_duplicates`` for orgs,
sessions, courses and classes), golden people by master fields (``golden_people``, ``district_schools``)
and reviewers' effects (``review_effects``). The engine itself is ``linkage/``.
May import normalize and the layers below it; never changes, delivery or anything above."""
