"""Running a command while sampling the memory of its whole process tree."""
import subprocess
import threading
import time

import psutil


def run_measured(cmd, log_path, cwd=None, env=None, interval=0.2):
    """Run ``cmd``; returns (exit code, wall seconds, peak RSS of the process tree in bytes)."""
    start = time.time()
    with open(log_path, 'w', encoding='utf-8') as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        peak = [0]
        done = threading.Event()

        def sample():
            root = psutil.Process(proc.pid)
            while not done.is_set():
                try:
                    procs = [root] + root.children(recursive=True)
                    total = 0
                    for p in procs:
                        try:
                            total += p.memory_info().rss
                        except psutil.Error:
                            pass
                    peak[0] = max(peak[0], total)
                except psutil.Error:
                    pass
                done.wait(interval)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        code = proc.wait()
        done.set()
        thread.join()
    return code, time.time() - start, peak[0]
