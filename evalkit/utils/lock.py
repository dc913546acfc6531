"""One run at a time per work dir: a lock file that names its owner (pid, host, start).

A second run on a work dir in use stops with a message naming the owner. A lock left by a
process that has died on this host is taken over; the check and the takeover happen under an
exclusive ``flock`` on a guard file, so two runs that find the same stale lock cannot both take it.
"""
import fcntl
import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import EvalkitError
from .fileio import atomic_write_json
from .logging import get_logger

logger = get_logger()

LOCK_NAME = '.evalkit.lock'


def _process_start(pid):
    """The process's start time in clock ticks since boot (tells a reused pid from the owner)."""
    try:
        with open(f'/proc/{pid}/stat', encoding='utf-8') as f:
            return int(f.read().rpartition(')')[2].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(owner):
    pid = owner.get('pid')
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    started = owner.get('process_start')
    return started is None or _process_start(pid) in (None, started)


class WorkDirLock:
    """``with WorkDirLock(work_dir):`` holds the work dir for this process."""

    def __init__(self, work_dir):
        self.work_dir = Path(work_dir)
        self.path = self.work_dir / LOCK_NAME
        self.me = {'pid': os.getpid(), 'host': socket.gethostname(),
                   'process_start': _process_start(os.getpid()),
                   'since': time.strftime('%Y-%m-%d %H:%M:%S'), 'command': ' '.join(sys.argv)}
        self.held = False

    @contextmanager
    def _guard(self):
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with open(self.work_dir / (LOCK_NAME + '.guard'), 'a') as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)

    def _owner(self):
        try:
            with open(self.path, encoding='utf-8') as f:
                owner = json.load(f)
            return owner if isinstance(owner, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable: treated as left by a dead process

    def acquire(self):
        with self._guard():
            owner = self._owner()
            if owner == {}:
                logger.warning('%s: taking over an unreadable lock file', self.work_dir)
            elif owner is not None:
                here = owner.get('host') == self.me['host']
                if not here or _alive(owner):
                    where = f"pid {owner.get('pid')} on {owner.get('host')}"
                    raise EvalkitError(
                        f'{self.work_dir} is in use by another evalkit run ({where}, since '
                        f"{owner.get('since', '?')}): wait for it to end or give another -w; if that "
                        f'run is gone{"" if here else " (it ran on another host)"}, delete {self.path}')
                logger.warning('%s: taking over the lock of pid %s, which is no longer running',
                               self.work_dir, owner.get('pid', '?'))
            atomic_write_json(self.path, self.me)
            self.held = True
        return self

    def release(self):
        if not self.held:
            return
        with self._guard():
            owner = self._owner()
            if owner and owner.get('pid') == self.me['pid'] and owner.get('host') == self.me['host']:
                self.path.unlink()
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
