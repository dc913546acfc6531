"""What every runner shares: launching each task as ``python -m evalkit.tasks.<stage> TASK.json``
in a bounded pool, retrying a failed task, and stopping everything that runs when the run is
interrupted.

A runner subclass says only how one attempt of a task is started (``run_attempt``) and how the
work in flight is stopped (``stop_jobs``); ``debug=True`` runs every task in this process instead.
A task's log goes to ``logs/<stage>/<model>/<task>.out``; a failing task is reported with that
path and the other tasks still run.
"""
import importlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ..registry import to_plain
from ..tasks.base import task_name
from ..utils.fileio import atomic_write_json
from ..utils.logging import get_logger
from ..utils.progress import watch_stage

logger = get_logger()

INTERRUPTED = 'interrupted'


def task_command(stage, cfg_path):
    """The command that runs one task, wherever it runs (a worker here or a Slurm node)."""
    return [sys.executable, '-m', f'evalkit.tasks.{stage}', str(cfg_path)]


def describe_exit(code):
    """'exit 1', or 'killed by SIGKILL' for a process ended by a signal."""
    if code is not None and code < 0:
        try:
            return f'killed by {signal.Signals(-code).name}'
        except ValueError:
            return f'killed by signal {-code}'
    return f'exit {code}'


class BaseRunner:
    """``max_num_workers`` tasks at a time; a failed task is tried again ``retry`` times (it
    resumes from the batches it saved)."""

    default_retry = 0

    def __init__(self, max_num_workers=None, debug=False, retry=None, task=None, **unused):
        # ``task=dict(type=OpenICLInferTask)`` in OpenCompass configs: here the stage names the task.
        self.max_num_workers = max_num_workers
        self.debug = debug
        self.retry = self.default_retry if retry is None else max(0, int(retry))
        self._stopping = threading.Event()
        self._live = {}  # Popen -> the attempt's job name (Slurm) or None
        self._live_lock = threading.Lock()

    # -------------------------------------------------------------- what subclasses provide
    def default_workers(self, tasks):
        return 1

    def run_attempt(self, task, index, stage, cfg_path, log, attempt):
        """Start one attempt of a task, wait for it, and return its exit code."""
        raise NotImplementedError

    def stop_jobs(self, jobs):
        """Stop the given attempts' jobs elsewhere (a cluster); the local processes are stopped
        after this by ``launch``. ``jobs``: the job names of the attempts in flight."""

    def prepare(self, stage, tasks, workers):
        """Set up for launching ``tasks``; returns the log line that describes the launch."""
        return f'{stage}: {len(tasks)} task(s) on {workers} worker(s)'

    def runs_in_process(self, stage):
        return self.debug

    # -------------------------------------------------------------- shared
    def log_path(self, work_dir, stage, task):
        return Path(work_dir, 'logs', stage, task_name(task) + '.out')

    def launch(self, tasks, stage, work_dir):
        """Run ``tasks`` of ``stage`` ('infer', 'eval', ...); returns [(task, error or None)]."""
        if not tasks:
            return []
        if self.runs_in_process(stage):
            results = []
            with watch_stage(stage, tasks, work_dir) as watch:
                for k, t in enumerate(tasks):
                    results.append((t, self._in_process(t, stage, work_dir)))
                    watch.task_done(k)
            return results
        workers = max(1, min(self.max_num_workers or self.default_workers(tasks), len(tasks)))
        self._stopping.clear()
        logger.info('%s', self.prepare(stage, tasks, workers))
        executor = ThreadPoolExecutor(workers)
        try:
            with _Progress(tasks, work_dir, stage), watch_stage(stage, tasks, work_dir) as watch, \
                    _termination_as_interrupt():
                futures = [executor.submit(self._run_task, t, k, stage, work_dir)
                           for k, t in enumerate(tasks)]
                for k, future in enumerate(futures):
                    future.add_done_callback(lambda _, k=k: watch.task_done(k))
                results = [(t, f.result()) for t, f in zip(tasks, futures)]
        except BaseException:  # Ctrl-C above all: nothing of this run may keep running
            executor.shutdown(wait=False, cancel_futures=True)
            self.stop_all()
            executor.shutdown(wait=True)
            raise
        executor.shutdown()
        return results

    def _run_task(self, task, index, stage, work_dir):
        cfg_path = Path(work_dir, 'tmp', f'{stage}_{index}.json').resolve()
        atomic_write_json(cfg_path, to_plain(task))
        log = self.log_path(work_dir, stage, task)
        log.parent.mkdir(parents=True, exist_ok=True)
        name = task_name(task)
        for attempt in range(self.retry + 1):
            if self._stopping.is_set():
                return INTERRUPTED
            code = self.run_attempt(task, index, stage, cfg_path, log, attempt)
            if self._stopping.is_set():
                return INTERRUPTED
            if code == 0:
                logger.info('%s done', name)
                return None
            if attempt < self.retry:
                logger.warning('%s failed (%s), trying again (retry %d of %d): see %s',
                               name, describe_exit(code), attempt + 1, self.retry, log)
        why = describe_exit(code) + (f': {last_error(log)}' if last_error(log) else '')
        logger.error('%s failed (%s): see %s', name, why, log)
        return f'{why}, log {log}'

    def spawn_and_wait(self, argv, log, attempt, env=None, job=None):
        """Run ``argv`` in a process group of its own (so that stopping the run reaches every
        process it starts), output to ``log``; returns the exit code (negative: a signal)."""
        mode = 'w' if attempt == 0 else 'a'
        with open(log, mode, encoding='utf-8') as out:
            if attempt:
                out.write(f'\n===== retry {attempt} =====\n')
                out.flush()
            proc = self.submit(argv, out, env, job)
        if proc is None:
            return None
        try:
            return proc.wait()
        finally:
            with self._live_lock:
                self._live.pop(proc, None)

    def submit(self, argv, out, env, job):
        """Start ``argv``; returns its Popen, or None when the run is stopping."""
        with self._live_lock:
            if self._stopping.is_set():
                return None
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
            self._live[proc] = job
            return proc

    def stop_all(self, grace=10.0):
        """Stop every attempt in flight: the cluster's jobs first, then the local process groups
        (SIGTERM, then SIGKILL after ``grace`` seconds)."""
        with self._live_lock:
            self._stopping.set()
            live = dict(self._live)
        if not live:
            return
        jobs = [job for job in live.values() if job]
        if jobs:
            self.stop_jobs(jobs)
        _signal_groups(live, signal.SIGTERM)
        deadline = time.time() + grace
        for proc in live:
            try:
                proc.wait(max(0.0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
        _signal_groups([p for p in live if p.poll() is None], signal.SIGKILL)
        for proc in live:
            proc.wait()
        logger.info('stopped %d task(s) in flight', len(live))

    def _in_process(self, task, stage, work_dir):
        module = importlib.import_module(f'evalkit.tasks.{stage}')
        path = self.log_path(work_dir, stage, task)
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding='utf-8')
        handler.setFormatter(logging.Formatter('%(asctime)s %(levelname)s %(message)s'))
        logger.addHandler(handler)
        try:
            outcome = module.run(task)
        except Exception as exc:  # a task's failure must not stop the others
            logger.exception('%s failed', task_name(task))
            outcome = [('task', f'{type(exc).__name__}: {exc}')]
        finally:
            logger.removeHandler(handler)
            handler.close()
        errors = [err for _, err in outcome if err]
        return '; '.join(errors) if errors else None


def last_error(log, tail=65536):
    """The message of the last ERROR line a task wrote to its log ('' when there is none)."""
    try:
        with open(log, 'rb') as f:
            f.seek(max(0, os.path.getsize(log) - tail))
            lines = f.read().decode('utf-8', 'replace').splitlines()
    except OSError:
        return ''
    for line in reversed(lines):
        head, sep, message = line.partition(' ERROR ')
        if sep and message.strip():
            return message.strip()
    return ''


@contextmanager
def _termination_as_interrupt():
    """SIGTERM and SIGHUP (a closed terminal, a job manager) stop the run as Ctrl-C does, so that
    its workers and jobs, which run in process groups of their own, are stopped too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _signal_groups(procs, sig):
    for proc in procs:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class _Progress:
    """A progress bar in this process over the datasets that worker processes finish."""

    def __init__(self, tasks, work_dir, stage, interval=1.0):
        from ..tasks.base import predictions_path, results_path
        output = results_path if stage == 'eval' else predictions_path
        self.files = [output(work_dir, t['model'], d) for t in tasks for d in t['datasets']]
        self.stage, self.interval = stage, interval
        self.stop = threading.Event()

    def __enter__(self):
        from tqdm import tqdm
        self.bar = tqdm(total=len(self.files), desc=self.stage, unit='dataset', dynamic_ncols=True,
                        disable=None)  # a terminal only: a log file gets the per-task lines
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self):
        while not self.stop.wait(self.interval):
            self._update()

    def _update(self):
        done = sum(f.exists() for f in self.files)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self._update()
        self.bar.close()
