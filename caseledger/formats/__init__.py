"""The firm's date formats, one place for every page (``FORMAT_MODULE_PATH``): templates write
``{{ value|date }}`` for a date and ``{{ value|date:"DATETIME_FORMAT" }}`` for a moment, never a
format string of their own. CSV exports and API payloads stay ISO 8601."""
