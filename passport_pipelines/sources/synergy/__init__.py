"""Edupoint Synergy SIS through its OneRoster API: ``SynergyConnector`` in ``connector``, the OneRoster REST
connector with the server and token URLs a district's Synergy hands out."""
