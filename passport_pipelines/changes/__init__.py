"""Stages 3 and 4: the change set of a sync and its way into the store. Computed against the last committed
version (``roster_changes``; a source whose identity settings changed is re-keyed: ``identity``, ``rekey``,
``rekeyed_source``), held for approval or not (``hold``, ``held_changes``, ``held_decisions``, ``hold_gate``),
sealed and committed (``change_set_seal``, ``commit``); ``drop_check`` is ``passport validate``'s dry run.
May import reconciliation and the layers below it; never delivery or anything above."""
