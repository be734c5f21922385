"""Logging filters named in hub/settings.py's LOGGING. No Django imports: logging is configured
before the apps are loaded."""

import logging


class ClientJunkLogFilter(logging.Filter):
    """Django logs a request body with too many fields or files, or too large, as a SuspiciousOperation
    at ERROR with a traceback; it is a stranger's junk answered with a 400, not the hub's fault. Kept,
    as one WARNING line without the traceback, so errors in the log stay worth reading
    (docs/hostile-input.md#logs)."""

    JUNK = ("TooManyFieldsSent", "TooManyFilesSent", "RequestDataTooBig")

    def filter(self, record):
        if record.name.rsplit(".", 1)[-1] in self.JUNK and record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True
