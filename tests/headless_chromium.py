"""A real headless Chromium driven over its DevTools protocol, for tests of the report pages.

Console messages, uncaught exceptions and failed loads are collected as they arrive; scripts run
in the page with ``evaluate``; ``screenshot`` writes a PNG. Chromium comes from Debian's
``chromium`` package (``tests/setup_chromium.sh``).
"""
import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket


def chromium_binary():
    return shutil.which('chromium') or shutil.which('chromium-browser')


class Browser:

    def __init__(self, width=1280, height=900, timeout=60):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix='evalkit-chromium-')
        self.proc = subprocess.Popen(
            [chromium_binary(), '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--disable-extensions', '--disable-background-networking', '--disable-dev-shm-usage',
             '--remote-debugging-port=0', f'--user-data-dir={self.profile}',
             f'--window-size={width},{height}', 'about:blank'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._port()
        targets = json.load(urllib.request.urlopen(f'http://127.0.0.1:{port}/json/list', timeout=10))
        page = next(t for t in targets if t['type'] == 'page')
        self.ws = websocket.create_connection(page['webSocketDebuggerUrl'], timeout=timeout,
                                              suppress_origin=True)
        self.ids = itertools.count(1)
        self.events = []
        for domain in ('Page', 'Runtime', 'Log', 'Network'):
            self.call(f'{domain}.enable')

    def _port(self):
        marker = Path(self.profile, 'DevToolsActivePort')
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.proc.poll() is not None:
                raise RuntimeError(f'chromium exited with code {self.proc.returncode}')
            time.sleep(0.1)
        raise RuntimeError('chromium did not open its DevTools port')

    def call(self, method, **params):
        """Send a command; events that arrive meanwhile are kept in ``self.events``."""
        ident = next(self.ids)
        self.ws.send(json.dumps({'id': ident, 'method': method, 'params': params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get('id') == ident:
                if 'error' in message:
                    raise RuntimeError(f'{method}: {message["error"]}')
                return message.get('result', {})
            self.events.append(message)

    def wait_for(self, event, since=0):
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            if any(e.get('method') == event for e in self.events[since:]):
                return
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(event)

    def open(self, url):
        since = len(self.events)
        self.call('Page.navigate', url=url)
        self.wait_for('Page.loadEventFired', since)

    def go_to_fragment(self, fragment):
        """A same-page link (``#...``): no load event, the page's script handles it."""
        self.evaluate(f'location.hash = {json.dumps(fragment)}')

    def evaluate(self, expression):
        result = self.call('Runtime.evaluate', expression=expression, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in result:
            raise RuntimeError(f'{expression[:60]}: {result["exceptionDetails"]}')
        return result['result'].get('value')

    def errors(self):
        """Console errors, uncaught exceptions and failed requests seen so far."""
        found = []
        for e in self.events:
            method, params = e.get('method'), e.get('params', {})
            if method == 'Runtime.consoleAPICalled' and params.get('type') in ('error', 'assert'):
                found.append(' '.join(str(a.get('value', a.get('description'))) for a in params['args']))
            elif method == 'Runtime.exceptionThrown':
                found.append(str(params['exceptionDetails']))
            elif method == 'Log.entryAdded' and params['entry'].get('level') == 'error':
                found.append(params['entry'].get('text'))
            elif method == 'Network.loadingFailed':
                found.append(f'load failed: {params.get("errorText")}')
        return found

    def requested_urls(self):
        return [e['params']['request']['url'] for e in self.events if e.get('method') == 'Network.requestWillBeSent']

    def screenshot(self, path, full_page=True):
        params = {'format': 'png', 'captureBeyondViewport': full_page}
        data = self.call('Page.captureScreenshot', **params)['data']
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
