"""xPress Roster (A4L) connector: OAuth or RIC One login (``auth``), header paging (``client``), SchoolYear,
Changes Since (``connector``); ``api_key_hint`` says when a refusal is about the API key."""
