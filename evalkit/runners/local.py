"""Runs tasks on this machine: worker processes, each given its GPUs and CPU threads.

Evaluation loads no model and runs in this process; ``debug=True`` runs every task here, one
after another, with logs on the terminal.
"""
import os
import shutil
import subprocess
import threading

from .base import BaseRunner, task_command

# The run's pid, given to each worker: a worker ends with the run (evalkit.tasks.base.stop_with_parent).
PARENT_ENV = 'EVALKIT_RUN_PID'


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


class LocalRunner(BaseRunner):

    def __init__(self, max_num_workers=None, debug=False, retry=None, **kwargs):
        super().__init__(max_num_workers=max_num_workers, debug=debug, retry=retry, **kwargs)
        self._pool = None

    def default_workers(self, tasks):
        gpus = visible_gpus()
        if gpus:
            per_task = max(1, max((t['model'].get('run_cfg') or {}).get('num_gpus', 1) for t in tasks))
            return max(1, len(gpus) // per_task)
        return 1  # on a CPU one worker with every core beats several that share them

    def runs_in_process(self, stage):
        # Evaluation loads no model: running it here saves a Python start per task.
        return self.debug or stage == 'eval'

    def prepare(self, stage, tasks, workers):
        gpus = visible_gpus()
        self._pool = _GpuPool(gpus)
        self._threads = max(1, (os.cpu_count() or 1) // workers)
        return (f'{stage}: {len(tasks)} task(s) on {workers} worker(s)'
                + (f', GPUs {",".join(gpus)}' if gpus else ', CPU only'))

    def run_attempt(self, task, index, stage, cfg_path, log, attempt):
        pool = self._pool
        need = (task['model'].get('run_cfg') or {}).get('num_gpus', 0) if pool.gpus else 0
        devices = pool.take(need)
        env = dict(os.environ, EVALKIT_NUM_THREADS=str(self._threads), OMP_NUM_THREADS=str(self._threads),
                   TOKENIZERS_PARALLELISM='false', **{PARENT_ENV: str(os.getpid())})
        if pool.gpus:
            env['CUDA_VISIBLE_DEVICES'] = ','.join(devices)
        try:
            return self.spawn_and_wait(task_command(stage, cfg_path), log, attempt, env=env)
        finally:
            pool.give(devices)


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
