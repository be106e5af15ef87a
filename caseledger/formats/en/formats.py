"""English (the firm's locale, ``LANGUAGE_CODE``): "Dec 2, 2026" and "Dec 2, 2026 3:05 PM".
Settings absent here (input formats) fall back to Django's own English formats."""

DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y g:i A"
MONTH_DAY_FORMAT = "M j"
