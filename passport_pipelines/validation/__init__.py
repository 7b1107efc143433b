"""Stage 1: each source's drop fetched, archived and validated (``extract``, the ``source_extracts`` stage).
``oneroster/`` reads and checks a CSV package rule by rule, ``schemas/`` knows the schemas a drop may follow,
``credentials/`` seals the passwords of an SSO Credentials drop, ``connection_checks`` is Test Connection.
May import sources and the layers below it (store, config, model, artifacts, sql); never normalize or
anything above."""
