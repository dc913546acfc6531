"""Runs tasks on this machine: worker processes, each given its GPUs and CPU threads.

``debug=True`` runs every task in this process, one after another, with logs on the terminal.
Either way a task's log goes to ``logs/<stage>/<model>/<task>.out``; a failing task is reported
with that path and the other tasks still run.
"""
import importlib
import logging
import os
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..registry import to_plain
from ..tasks.base import task_name
from ..utils.fileio import atomic_write_json
from ..utils.logging import get_logger

logger = get_logger()


def visible_gpus():
    """GPU ids this process may use, without importing torch."""
    env = os.environ.get('CUDA_VISIBLE_DEVICES')
    if env is not None:
        return [g for g in env.split(',') if g.strip() and g.strip() != '-1']
    if shutil.which('nvidia-smi'):
        try:
            out = subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True, timeout=20).stdout
            return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith('GPU ')]
        except (OSError, subprocess.SubprocessError):
            return []
    return []


class LocalRunner:

    def __init__(self, max_num_workers=None, debug=False, **unused):
        self.max_num_workers = max_num_workers
        self.debug = debug

    def default_workers(self, tasks):
        gpus = visible_gpus()
        if gpus:
            per_task = max(1, max((t['model'].get('run_cfg') or {}).get('num_gpus', 1) for t in tasks))
            return max(1, len(gpus) // per_task)
        return 1  # on a CPU one worker with every core beats several that share them

    def log_path(self, work_dir, stage, task):
        return Path(work_dir, 'logs', stage, task_name(task) + '.out')

    def launch(self, tasks, stage, work_dir):
        """Run ``tasks`` of ``stage`` ('infer' or 'eval'); returns [(task, error or None)]."""
        if not tasks:
            return []
        if self.debug or stage == 'eval':
            # Evaluation loads no model: running it here saves a Python start per task.
            return [(t, self._in_process(t, stage, work_dir)) for t in tasks]
        workers = max(1, min(self.max_num_workers or self.default_workers(tasks), len(tasks)))
        gpus = visible_gpus()
        threads = max(1, (os.cpu_count() or 1) // workers)
        pool = _GpuPool(gpus)
        logger.info('%s: %d task(s) on %d worker(s)%s', stage, len(tasks), workers,
                    f', GPUs {",".join(gpus)}' if gpus else ', CPU only')
        with ThreadPoolExecutor(workers) as executor, _Progress(tasks, work_dir, stage):
            futures = [executor.submit(self._subprocess, t, k, stage, work_dir, pool, threads)
                       for k, t in enumerate(tasks)]
            return [(t, f.result()) for t, f in zip(tasks, futures)]

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

    def _subprocess(self, task, index, stage, work_dir, pool, threads):
        cfg_path = Path(work_dir, 'tmp', f'{stage}_{index}.json')
        atomic_write_json(cfg_path, to_plain(task))
        log = self.log_path(work_dir, stage, task)
        log.parent.mkdir(parents=True, exist_ok=True)
        need = (task['model'].get('run_cfg') or {}).get('num_gpus', 0) if pool.gpus else 0
        devices = pool.take(need)
        env = dict(os.environ, EVALKIT_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                   TOKENIZERS_PARALLELISM='false')
        if pool.gpus:
            env['CUDA_VISIBLE_DEVICES'] = ','.join(devices)
        try:
            with open(log, 'w', encoding='utf-8') as out:
                code = subprocess.call([sys.executable, '-m', f'evalkit.tasks.{stage}', str(cfg_path)],
                                       stdout=out, stderr=subprocess.STDOUT, env=env)
        finally:
            pool.give(devices)
        name = task_name(task)
        if code != 0:
            logger.error('%s failed (exit %d): see %s', name, code, log)
            return f'exit {code}, log {log}'
        logger.info('%s done', name)
        return None


class _Progress:
    """A progress bar in this process over the datasets that worker processes finish."""

    def __init__(self, tasks, work_dir, stage, interval=1.0):
        from ..tasks.base import predictions_path
        self.files = [predictions_path(work_dir, t['model'], d) for t in tasks for d in t['datasets']]
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


class _GpuPool:
    """Hands out GPU ids to tasks; a task waits until enough are free."""

    def __init__(self, gpus):
        self.gpus = list(gpus)
        self.free = list(gpus)
        self.cond = threading.Condition()

    def take(self, n):
        n = min(n, len(self.gpus))
        with self.cond:
            self.cond.wait_for(lambda: len(self.free) >= n)
            taken, self.free = self.free[:n], self.free[n:]
            return taken

    def give(self, devices):
        with self.cond:
            self.free.extend(devices)
            self.cond.notify_all()
