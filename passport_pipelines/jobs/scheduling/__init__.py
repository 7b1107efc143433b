"""When districts sync unattended: the ``district_syncs`` schedule, the due times of each district's schedule
in its own time zone, pauses included (``due_times``, ``due_syncs``), the first day of school from the synced
calendars (``first_days``), and what tells a new CSV drop (``drop_signatures``)."""
