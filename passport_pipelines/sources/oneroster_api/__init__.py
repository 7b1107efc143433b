"""OneRoster 1.1 / 1.2 REST connector: ``OneRosterApiConnector`` in ``connector``, with its ``client``,
``collections``, ``paging``, ``incremental`` pulls and the sync's school year only (``school_year``)."""
