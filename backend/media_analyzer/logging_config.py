"""Logging: readable text on a laptop, JSON with Cloud Logging's field names in production."""

from pythonjsonlogger.json import JsonFormatter


class CloudLoggingFormatter(JsonFormatter):
    """One JSON object per line with `severity`, `message`, `time` and, when a request
    carries a trace, `logging.googleapis.com/trace`, which Cloud Logging reads natively."""

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        log_record["severity"] = record.levelname
        trace = getattr(record, "trace", None)
        if trace:
            log_record["logging.googleapis.com/trace"] = trace
        log_record.pop("levelname", None)


def build_logging(log_format: str, level: str) -> dict:
    formatters = {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": CloudLoggingFormatter,
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.server": {"level": "WARNING"}},
    }
