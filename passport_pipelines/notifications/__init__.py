"""Notifications of finished, held and failed syncs: what a district's webhooks and
mailboxes receive.

``message`` builds the JSON body from the run and its version (ids and counts only),
``run_failure`` reduces a failed run to its step and first error line, ``webhook`` and ``email`` deliver
it. The ``NotifierResource`` (``resources/notifier.py``) dispatches one message to every target of an
integration, and the run-status sensors (``sensors/notifications.py``) call it when a sync ends.
"""
