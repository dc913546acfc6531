"""Real HTTP servers on loopback for API model tests.

``llama_server``: llama-cpp-python's OpenAI-compatible server with the real SmolLM2 GGUF, one per
test session, which asks for an API key (held in $EVALKIT_TEST_API_KEY).
``scripted_server``: a small ``http.server`` that answers from a script (429s, 5xx, slow answers,
errors) and records when each request came, for what the real server cannot be made to do.
"""
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

KEY_ENV = 'EVALKIT_TEST_API_KEY'
MODEL_ALIAS = 'smollm2-135m-instruct'
START_TIMEOUT = 180


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@dataclass
class LlamaServer:
    base_url: str  # http://127.0.0.1:<port>/v1
    model: str
    key_env: str
    log: Path

    @property
    def key(self):
        return os.environ[self.key_env]

    def requests_served(self):
        """Chat requests the server has answered so far (from its access log)."""
        return self.log.read_text(errors='replace').count('POST /v1/chat/completions')


def _server_missing():
    for module in ('llama_cpp', 'uvicorn', 'fastapi', 'sse_starlette', 'starlette_context'):
        if importlib.util.find_spec(module) is None:
            return module
    return None


def _wait_until_up(proc, url, key, log):
    deadline = time.time() + START_TIMEOUT
    request = urllib.request.Request(url + '/models', headers={'Authorization': f'Bearer {key}'})
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f'llama_cpp.server exited with {proc.returncode}:\n'
                               + log.read_text(errors='replace')[-2000:])
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f'llama_cpp.server did not answer within {START_TIMEOUT} s:\n'
                       + log.read_text(errors='replace')[-2000:])


@pytest.fixture(scope='session')
def llama_server(smollm2, tmp_path_factory):
    """llama-cpp-python's server with SmolLM2 on a free loopback port, for the whole session."""
    missing = _server_missing()
    if missing:
        pytest.skip(f'{missing} is not installed: make setup installs llama-cpp-python[server]')
    port = free_port()
    log = tmp_path_factory.mktemp('llama-server') / 'server.log'
    previous_key = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = 'sk-evalkit-test-' + secrets.token_hex(12)
    cmd = [sys.executable, '-m', 'llama_cpp.server', '--model', smollm2, '--model_alias', MODEL_ALIAS,
           '--host', '127.0.0.1', '--port', str(port), '--n_ctx', '4096', '--n_threads', '2',
           '--api_key', os.environ[KEY_ENV]]
    with open(log, 'wb') as out:
        # Its own process group, so that teardown ends the server and anything it started.
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(proc, f'http://127.0.0.1:{port}/v1', os.environ[KEY_ENV], log)
        yield LlamaServer(f'http://127.0.0.1:{port}/v1', MODEL_ALIAS, KEY_ENV, log)
    finally:
        _stop(proc)
        if previous_key is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = previous_key


def _stop(proc):
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


# ------------------------------------------------------------------ scripted server
@dataclass
class Reply:
    """One scripted answer: a status, headers, a JSON body, and a delay before it is sent."""
    status: int = 200
    body: object = None  # None: a chat completion answering 'echo: <the last message>'
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    start: float  # when the request arrived (time.monotonic)
    body: dict
    headers: dict


class ScriptedServer:
    """Answers requests with the scripted replies in order, then with 200s; records each request."""

    def __init__(self):
        self.script = []
        self.seen = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), self._handler())
        self.httpd.daemon_threads = True
        self.base_url = f'http://127.0.0.1:{self.httpd.server_address[1]}/v1'
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def _next(self, seen):
        with self._lock:
            self.seen.append(seen)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            return self.script.pop(0) if self.script else Reply()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                start = time.monotonic()
                body = json.loads(self.rfile.read(int(self.headers.get('Content-Length', 0))))
                reply = server._next(Seen(start, body, dict(self.headers)))
                try:
                    time.sleep(reply.delay)
                    payload = reply.body
                    if payload is None:
                        text = 'echo: ' + body['messages'][-1]['content']
                        payload = {'choices': [{'index': 0, 'finish_reason': 'stop',
                                                'message': {'role': 'assistant', 'content': text}}]}
                    data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
                    self.send_response(reply.status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def scripted_server():
    server = ScriptedServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
