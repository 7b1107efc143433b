"""Jobs with config launched from the Launchpad, each doing what a ``passport`` command does from a shell:
approve or reject a held sync (``sync_approval``), resolve or undo a duplicate decision
(``duplicate_review``), and test a district's connections (``connection_checks``)."""
