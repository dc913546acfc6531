"""Running untrusted Python programs (model-written code) apart from the evaluating process.

Each program runs in its own ``python -I`` subprocess, in a fresh temporary folder, with no stdin,
a wall-clock timeout, and limits on memory, output size and core dumps. It is its own process
group, so whatever it spawns dies with it. This guards against mistakes (infinite loops, memory
hogs, stray files), not against a determined attacker: use a container for that.
"""
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

PROGRAM_FILE = 'program.py'
OUTPUT_FILE = 'output.txt'
OUTPUT_LIMIT = 1 << 20      # bytes a program may write; past it the kernel stops it (SIGXFSZ)
OUTPUT_KEPT = 2000          # characters of output kept in the result
ERROR_KEPT = 300            # characters of the error line kept


@dataclass(frozen=True)
class RunResult:
    """How one program ended: ``status`` is 'passed', 'failed' or 'timeout'."""
    status: str
    error: str = ''          # one line: the exception or the signal that ended it
    output: str = ''         # the tail of stdout and stderr together
    seconds: float = 0.0

    @property
    def passed(self):
        return self.status == 'passed'


def _limits(memory_mb):
    """Applied in the child before it starts Python: address space, output file size, no core."""
    def apply():
        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT, OUTPUT_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _error_line(returncode, output, output_size):
    if output_size >= OUTPUT_LIMIT:
        return f'output limit exceeded ({OUTPUT_LIMIT} bytes)'
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f'signal {-returncode}'
        return f'killed by {name}'
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:ERROR_KEPT] if lines else f'exit status {returncode}'


def run_program(code, timeout=5.0, memory_mb=1024):
    """Run ``code`` as a Python program; passed means it exited with status 0 within ``timeout``."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='evalkit-sandbox-', ignore_cleanup_errors=True) as folder:
        with open(os.path.join(folder, PROGRAM_FILE), 'w', encoding='utf-8') as f:
            f.write(code)
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': folder, 'TMPDIR': folder,
               'LANG': 'C.UTF-8', 'PYTHONIOENCODING': 'utf-8', 'OMP_NUM_THREADS': '1'}
        # Output goes to a file, not a pipe: RLIMIT_FSIZE then bounds it, so a program printing
        # forever cannot fill this process's memory.
        with open(os.path.join(folder, OUTPUT_FILE), 'w+b') as out:
            proc = subprocess.Popen([sys.executable, '-I', PROGRAM_FILE], cwd=folder, env=env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    preexec_fn=_limits(memory_mb), start_new_session=True)
            try:
                returncode = proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            _kill_group(proc.pid)   # also ends any process the program left behind
            proc.wait()
            output_size = out.seek(0, os.SEEK_END)
            out.seek(max(0, output_size - 4 * OUTPUT_KEPT))
            output = out.read().decode('utf-8', errors='replace')[-OUTPUT_KEPT:]
    seconds = time.monotonic() - start
    if timed_out:
        return RunResult('timeout', f'timed out after {timeout:g} s', output, seconds)
    if returncode == 0:
        return RunResult('passed', '', output, seconds)
    return RunResult('failed', _error_line(returncode, output, output_size), output, seconds)


def default_workers():
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)


def run_programs(codes, timeout=5.0, memory_mb=1024, workers=None):
    """Run several programs in parallel (``workers`` at a time, default: the CPUs this process may
    use); results come back in the order of ``codes``."""
    codes = list(codes)
    workers = max(1, min(workers or default_workers(), len(codes) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda code: run_program(code, timeout, memory_mb), codes))
