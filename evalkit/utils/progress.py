"""One progress line for a whole run, beside the per-dataset bars: datasets done out of those
launched so far (every stage counted), the time since the run's first stage began, and the time
left in the stage running now, estimated from its pace.

A dataset counts as done when the stage writes its output (predictions, results) or when its
task ends, whichever comes first. A run's stages register themselves as the runner launches them;
a stage launched again for the same run folder means a new run in this process (a resume), and
starts the count afresh.
"""
import threading
import time
from pathlib import Path

from .logging import get_logger

logger = get_logger()


def format_duration(seconds):
    seconds = int(round(max(0, seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f'{hours}h{minutes:02d}m' if hours else (f'{minutes}m{secs:02d}s' if minutes else f'{secs}s')


def stage_outputs(stage, task):
    """One entry per dataset of ``task``: the file that shows it done in ``stage``, or None
    where the stage writes none that is known here (then the task's end counts)."""
    from ..tasks.base import predictions_path, results_path
    paths = {'infer': predictions_path, 'eval': results_path}.get(stage)
    datasets = task.get('datasets') or [None]
    if paths is None or not task.get('datasets') or 'model' not in task or 'work_dir' not in task:
        return [None] * len(datasets)
    return [paths(task['work_dir'], task['model'], d) for d in datasets]


class RunProgress:
    """Counts a run's datasets across its stages and logs one line whenever the count moves."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.started = clock()
        self.stages = {}     # stage -> [total, done]
        self.current = None
        self.stage_started = None
        self.lock = threading.Lock()

    @property
    def total(self):
        return sum(t for t, _ in self.stages.values())

    @property
    def done(self):
        return sum(d for _, d in self.stages.values())

    def line(self):
        total, done = self.stages[self.current]
        now = self.clock()
        text = (f'run progress: {self.done}/{self.total} datasets done ({self.current} {done}/{total}), '
                f'{format_duration(now - self.started)} elapsed')
        if done >= total:
            return text
        if done:
            rate = (now - self.stage_started) / done
            return text + f', about {format_duration(rate * (total - done))} left in {self.current}'
        return text + f', estimating the time left in {self.current}'

    def begin(self, stage, total):
        with self.lock:
            self.stages[stage] = [total, 0]
            self.current, self.stage_started = stage, self.clock()
            logger.info('%s', self.line())

    def update(self, stage, done):
        with self.lock:
            entry = self.stages[stage]
            done = min(done, entry[0])
            if done != entry[1]:
                entry[1] = done
                logger.info('%s', self.line())


class StageWatch:
    """``with StageWatch(progress, stage, tasks):`` around a stage: watches its output files in a
    thread and counts every dataset of a finished task (``task_done``)."""

    def __init__(self, progress, stage, tasks, interval=1.0):
        self.progress, self.stage, self.interval = progress, stage, interval
        self.units = [(k, path) for k, t in enumerate(tasks) for path in stage_outputs(stage, t)]
        self.finished = set()
        self.stop = threading.Event()

    def __enter__(self):
        self.since = time.time() - 1  # outputs written from now on (file times have 1 s steps here and there)
        self.progress.begin(self.stage, len(self.units))
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def task_done(self, index):
        self.finished.add(index)
        self._count()

    def _written(self, path):
        try:
            return path is not None and Path(path).stat().st_mtime >= self.since
        except OSError:
            return False

    def _count(self):
        done = sum(k in self.finished or self._written(p) for k, p in self.units)
        self.progress.update(self.stage, done)

    def _watch(self):
        while not self.stop.wait(self.interval):
            self._count()

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        if exc[0] is None:
            self.finished.update(k for k, _ in self.units)
        self._count()


_RUNS = {}
_RUNS_LOCK = threading.Lock()


def run_progress(work_dir, stage):
    """The progress of the run in ``work_dir``; a new one when ``stage`` already ran there."""
    key = str(Path(work_dir).resolve())
    with _RUNS_LOCK:
        progress = _RUNS.get(key)
        if progress is None or stage in progress.stages:
            progress = _RUNS[key] = RunProgress()
        return progress


def watch_stage(stage, tasks, work_dir):
    return StageWatch(run_progress(work_dir, stage), stage, tasks)
