"""Edupoint Synergy SIS, read through the district's Synergy OneRoster API.

Third parties take a district's roster from Synergy the OneRoster way: a Server URL, a token
URL and an OAuth client id and secret that the district's Synergy administrator issues. So
this kind is the OneRoster REST connector with Synergy's settings (``config.sources.
SynergySource``): OneRoster 1.1 unless the district set up 1.2; a Server URL that already ends
with the version path (the server root works too); OAuth2 client credentials by default, the
method Synergy integrators recommend, with OAuth 1.0a signing still possible but deprecated;
no OAuth2 scopes asked for on 1.1. The records are OneRoster JSON, so the SQL models are the
OneRoster ones (``models = "oneroster_api"``): Synergy needs none of its own.

Synergy's SOAP ``ProcessWebServiceRequest`` service works per student or parent login and is
not a district roster feed, so it is not used.
"""

from __future__ import annotations

from typing import ClassVar

from passport_pipelines.sources.oneroster_api.connector import OneRosterApiConnector


class SynergyConnector(OneRosterApiConnector):
    """A Synergy district's OneRoster API, with Synergy's defaults (see ``SynergySource``)."""

    kind: ClassVar[str] = "synergy"
    models: ClassVar[str] = "oneroster_api"
