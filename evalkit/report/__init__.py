"""Pages people look at: a report per run, an index of a work dir's runs, run comparison."""
from .data import Run, find_run, list_runs
from .index import write_index
from .run_page import report_path, write_report

__all__ = ['Run', 'find_run', 'list_runs', 'publish', 'report_path', 'write_index', 'write_report']


def publish(run_dir, work_dir):
    """The run's report and the work dir's index, after a summary. A page that cannot be made
    is one warning line: the run's results stand without it."""
    from ..utils.logging import get_logger
    logger = get_logger()
    try:
        path = write_report(run_dir)
        write_index(work_dir)
    except Exception as exc:  # a report is a view of the results, never a reason to fail the run
        logger.warning('report not written: %s: %s', type(exc).__name__, exc)
        return None
    logger.info('report: %s', path)
    return path
