"""One logger for the whole package, with a format that reads well in a terminal and in a log file."""
import logging
import sys

_FORMAT = '%(asctime)s %(levelname)s %(message)s'
_DATEFMT = '%m/%d %H:%M:%S'


def get_logger(name='evalkit'):
    logger = logging.getLogger(name)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT, _DATEFMT))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
