"""Stage 5: the committed golden data out to each destination. ``deliveries`` exports it as OneRoster 1.1 /
1.2 CSV zips (``golden_frames``, ``delivered_ids``, ``privacy_shield``, ``oneroster_export``; ``targets``: a
folder or SFTP), ``propagation`` says when a version is in production, and ``writeback/`` writes golden
values back into PowerSchool and Google Workspace.
May import changes and the layers below it; never notifications, resources or the Dagster wiring above."""
