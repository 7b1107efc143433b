"""xPress Roster (A4L) connector: OAuth or RIC One login, header paging, SchoolYear, Changes Since."""
