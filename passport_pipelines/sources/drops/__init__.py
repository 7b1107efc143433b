"""CSV drop sources: where a school year's drop is (``locations``: one location, a template or a map), fetching
it from an SFTP server with its host key checked (``sftp``), and the errors of a fetch. Reading and
validating the drop is the next layer's (``validation/extract.py``)."""
