"""Notifications of finished, held and failed syncs: what a district's webhooks and mailboxes receive.
``message`` builds the JSON body (ids and counts only), ``run_failure`` reduces a failed run to its step and
first error line, ``webhook`` and ``email`` deliver it. Who sends it, once per run, is decided above:
``jobs/sync_run_notices.py`` through ``resources/notifier.py``.
May import delivery and the layers below it (today only config and store)."""
