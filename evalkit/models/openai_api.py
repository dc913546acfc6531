"""A chat model behind an OpenAI-compatible endpoint (OpenAI, vLLM, LMDeploy, llama.cpp, ...).

Prompts go out as chat messages to ``<openai_api_base>/chat/completions``, several at once (a
thread pool of ``max_concurrency``) and paced by ``query_per_second`` across all threads. Failed
requests are retried with exponential backoff and jitter; answers are cached on disk (see
``api_cache``). The API key never appears in a config: the config names the environment
variable that holds it, so saved configs, predictions, logs and error messages never carry it.
"""
import json
import os
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from email.utils import parsedate_to_datetime
from http.client import HTTPException

from ..utils.errors import EvalkitError
from ..utils.logging import get_logger
from ..utils.ratelimit import RateLimiter
from .api_cache import ResponseCache
from .base import BaseModel
from .huggingface import cut_at_stop, split_model_path

logger = get_logger()

DEFAULT_KEY_ENV = 'OPENAI_API_KEY'
# Local servers (vLLM, LMDeploy) take any key; OpenCompass's configs for them write 'EMPTY'.
NO_KEY = ('EMPTY', '')
# Servers in the OpenAI mould accept at most 4 stop strings; the rest are cut here.
MAX_SERVER_STOPS = 4
MAX_WAIT = 600  # the longest pause between attempts, whatever a Retry-After header asks for
PROGRESS_EVERY = 30  # seconds between progress lines in the log
# Settings that have no effect here, accepted so that OpenCompass's configs load.
_ACCEPTED_UNUSED = {'meta_template', 'rpm_verbose', 'verbose', 'org', 'mode', 'logprobs',
                     'top_logprobs', 'http_client_cfg', 'status_code_mappings', 'run_cfg'}


def key_env_name(key=None, key_env=None, who='an API model'):
    """The environment variable to read the API key from, or None when no key is sent.

    ``key='ENV'`` (OpenCompass's spelling) or no key means ``key_env``, by default $OPENAI_API_KEY.
    A literal key is refused: it would be saved with the run's config.
    """
    if key is None or key == 'ENV':
        return key_env or DEFAULT_KEY_ENV
    if isinstance(key, str) and key in NO_KEY:
        return key_env
    raise EvalkitError(f"{who}: the config holds a literal key= : it would be saved with the run's "
                       "config. Put the key in an environment variable and name that variable instead, "
                       "e.g. key_env='MY_API_KEY' (key='ENV' reads $OPENAI_API_KEY)")


def approx_token_len(text):
    """Tokens of ``text`` as most tokenizers count them, without a tokenizer: a CJK character
    is about one token, other text about four characters a token."""
    cjk = sum(1 for ch in text if '\u2e80' <= ch <= '\u9fff' or '\uac00' <= ch <= '\ud7af'
              or '\uf900' <= ch <= '\ufaff' or '\uff00' <= ch <= '\uffef')
    return cjk + -(-(len(text) - cjk) // 4)


def as_messages(prompt):
    """Chat messages for a prompt: a plain string becomes one user message; a message list
    (assistant turns of a dialogue included) is sent as it is."""
    if isinstance(prompt, str):
        return [{'role': 'user', 'content': prompt}]
    if isinstance(prompt, (list, tuple)) and all(isinstance(m, dict) and 'role' in m and 'content' in m
                                                  for m in prompt):
        return [dict(m) for m in prompt]
    raise EvalkitError(f'an API chat prompt is a string or a list of {{"role", "content"}} messages, '
                       f'not {str(prompt)[:80]!r}')


class _Retryable(Exception):
    """A failure worth another attempt; ``wait`` is what the server asked for (Retry-After),
    ``hint`` what to do should every attempt fail so."""

    def __init__(self, what, wait=None, hint=''):
        super().__init__(what)
        self.wait, self.hint = wait, hint


class OpenAIChatModel(BaseModel):
    """Any OpenAI-compatible chat completions endpoint.

    ``path`` is the model name sent with each request; ``openai_api_base`` the API root
    (``http://127.0.0.1:8000/v1``) or the full ``.../chat/completions`` address.
    """

    is_chat = True

    def __init__(self, path, openai_api_base=None, key='ENV', key_env=None, max_seq_len=16384,
                 max_out_len=512, batch_size=16, max_concurrency=None, max_workers=None,
                 query_per_second=None, retry=2, retry_wait=1.0, timeout=600, temperature=0.0,
                 generation_kwargs=None, extra_body=None, openai_extra_kwargs=None, stop_words=(),
                 tokenizer_path=None, tokenizer_kwargs=None, cache=True, think_tag='</think>',
                 abbr=None, **unused):
        # OpenCompass's extra request fields are generation settings too.
        settings = {**(generation_kwargs or {}), **(openai_extra_kwargs or {}), **(extra_body or {})}
        super().__init__(abbr=abbr, max_seq_len=max_seq_len, max_out_len=max_out_len,
                         batch_size=batch_size, stop_words=stop_words, generation_kwargs=settings)
        self.name = abbr or path
        self.path = path
        self.url = self._endpoint(openai_api_base or os.environ.get('OPENAI_BASE_URL')
                                  or 'https://api.openai.com/v1')
        self._key_env = key_env_name(key, key_env, self.name)
        self._key = self._read_key(key_env is not None)
        concurrency = max_concurrency or max_workers or 8
        for name, value, low in (('max_concurrency', concurrency, 1), ('retry', retry, 0),
                                 ('batch_size', batch_size, 1)):
            if not isinstance(value, int) or value < low:
                raise EvalkitError(f'{self.name}: {name}={value!r}: give a whole number of at least {low}')
        for name, value in (('query_per_second', query_per_second), ('timeout', timeout)):
            if value is not None and (not isinstance(value, (int, float)) or value <= 0):
                raise EvalkitError(f'{self.name}: {name}={value!r}: give a positive number '
                                   '(or None for no limit)')
        self.max_concurrency = concurrency
        self.limiter = RateLimiter(query_per_second)
        self.retry, self.retry_wait, self.timeout = retry, retry_wait, timeout
        self.temperature = temperature
        self.think_tag = think_tag
        self.cache = ResponseCache() if cache else None
        self.tokenizer = self._load_tokenizer(tokenizer_path, tokenizer_kwargs) if tokenizer_path else None
        if (max_concurrency or max_workers) and batch_size < concurrency:
            logger.info('%s: batch_size=%d < max_concurrency=%d: at most %d requests run at once',
                        self.name, batch_size, concurrency, batch_size)
        ignored = sorted(set(unused) - _ACCEPTED_UNUSED)
        if ignored:
            logger.warning('%s: settings not used by API models: %s', self.name, ', '.join(ignored))
        self._counts = {'cached': 0, 'sent': 0, 'retries': 0}
        self._count_lock = threading.Lock()
        self._last_note = None

    @classmethod
    def check_config(cls, cfg):
        """Refuse, before the run's config is saved, a config that holds a literal key."""
        key_env_name(cfg.get('key', 'ENV'), cfg.get('key_env'), f"model {cfg.get('abbr') or cfg.get('path')}")

    # ---------------------------------------------------------------- setup
    @staticmethod
    def _endpoint(base):
        if not isinstance(base, str) or not base.startswith(('http://', 'https://')):
            raise EvalkitError(f'openai_api_base={base!r}: give the API root as a URL, '
                               'e.g. http://127.0.0.1:8000/v1')
        base = base.rstrip('/')
        return base if base.endswith('/chat/completions') else base + '/chat/completions'

    def _read_key(self, named):
        if self._key_env is None:
            return None
        key = os.environ.get(self._key_env, '').strip()
        if not key and named:
            raise EvalkitError(f'{self.name}: the API key variable ${self._key_env} is not set: '
                               f'export {self._key_env}=... before the run')
        return key or None

    def _load_tokenizer(self, path, kwargs):
        from transformers import AutoTokenizer
        folder, kwargs = split_model_path(path, kwargs)
        try:
            return AutoTokenizer.from_pretrained(folder, **kwargs)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EvalkitError(f'{self.name}: cannot load the tokenizer from {path}: {first}') from None

    # ---------------------------------------------------------------- tokens
    def token_len(self, prompt):
        """Tokens of a prompt: counted by ``tokenizer_path``'s tokenizer when one is given (its chat
        template included), else estimated (``approx_token_len``, plus 4 per message for the
        role markup). It only decides how many in-context examples fit in ``max_seq_len``."""
        messages = as_messages(prompt)
        if self.tokenizer is None:
            return sum(approx_token_len(m['content'] or '') + 4 for m in messages)
        if getattr(self.tokenizer, 'chat_template', None):
            text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            return len(self.tokenizer(text, add_special_tokens=False)['input_ids'])
        return sum(len(self.tokenizer(m['content'] or '')['input_ids']) for m in messages)

    def choice_nll(self, groups):
        raise EvalkitError(f'{self.name}: API models cannot score options (ppl mode): use a gen '
                           'dataset config instead, e.g. ceval_gen rather than ceval_ppl')

    # ---------------------------------------------------------------- generation
    def request_body(self, prompt, max_out_len, stops):
        body = {'model': self.path, 'messages': as_messages(prompt), 'max_tokens': max_out_len}
        if self.temperature is not None:
            body['temperature'] = self.temperature
        if stops:
            body['stop'] = stops[:MAX_SERVER_STOPS]
        body.update(self.generation_kwargs)
        return body

    def generate(self, prompts, max_out_len, stop_words=()):
        """The answers to ``prompts``, in order: from the cache, else from the server, up to
        ``max_concurrency`` requests at a time; each answer is cut at the first stop word."""
        stops = list(dict.fromkeys(s for s in list(stop_words or ()) + self.stop_words if s))
        bodies = [self.request_body(p, max_out_len, stops) for p in prompts]
        answers = [self.cache.get(b) if self.cache else None for b in bodies]
        todo = [i for i, answer in enumerate(answers) if answer is None]
        if todo:
            pool = ThreadPoolExecutor(min(len(todo), self.max_concurrency), thread_name_prefix='api')
            try:
                futures = {pool.submit(self._complete, bodies[i]): i for i in todo}
                for future in as_completed(futures):
                    answers[futures[future]] = future.result()
            finally:
                # On a failure, requests not yet started are dropped; finished ones are cached.
                pool.shutdown(wait=True, cancel_futures=True)
        self._note_progress(len(prompts) - len(todo), len(todo))
        return [cut_at_stop(answer, stops) for answer in answers]

    def _complete(self, body):
        """One request, tried ``retry`` more times on rate limits, server errors, lost connections
        and timeouts; an answer is cached once it arrives."""
        data = json.dumps(body, ensure_ascii=False).encode('utf-8')
        for attempt in range(self.retry + 1):
            self.limiter.wait()
            try:
                reply = self._post(data)
            except _Retryable as exc:
                if attempt == self.retry:
                    tries = f'{attempt + 1} attempt{"s" if attempt else ""}'
                    raise EvalkitError(f'{self.url}: {exc} (gave up after {tries}{exc.hint})') from None
                wait = min(MAX_WAIT, exc.wait if exc.wait is not None else self._backoff(attempt))
                logger.warning('%s: %s; retry %d of %d in %.1f s', self.url, exc, attempt + 1,
                               self.retry, wait)
                with self._count_lock:
                    self._counts['retries'] += 1
                time.sleep(wait)
                continue
            answer = self._answer(reply)
            if self.cache:
                try:
                    self.cache.put(body, answer)
                except OSError as exc:
                    logger.warning('%s: cannot cache an answer in %s: %s', self.name, self.cache.folder, exc)
            return answer

    def _backoff(self, attempt):
        """Seconds before retry ``attempt + 1``: doubling each time, and jittered so that threads
        that failed together do not come back together."""
        delay = self.retry_wait * 2 ** attempt
        return random.uniform(delay / 2, delay)

    def _post(self, data):
        headers = {'Content-Type': 'application/json'}
        if self._key:
            headers['Authorization'] = f'Bearer {self._key}'
        request = urllib.request.Request(self.url, data=data, headers=headers, method='POST')
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            status, message = exc.code, self._scrub(_server_message(exc))
            if status in (408, 429) or status >= 500:
                raise _Retryable(f'HTTP {status}: {message}', _retry_after(exc.headers),
                                 '; raise retry= if the server is only busy') from None
            raise EvalkitError(f'{self.url}: HTTP {status}: {message}{self._hint(status)}') from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise self._timed_out() from None
            raise _Retryable(f'cannot connect: {_reason_text(reason)}', None,
                             '; is the server running at that address?') from None
        except (socket.timeout, TimeoutError):
            raise self._timed_out() from None
        except (HTTPException, OSError) as exc:
            raise _Retryable(f'connection lost: {_reason_text(exc)}') from None
        try:
            return json.loads(raw)
        except ValueError:
            raise _Retryable(f'the answer is not JSON: {self._scrub(_first_line(raw))}') from None

    def _timed_out(self):
        return _Retryable(f'no answer within timeout={self.timeout} s', None,
                          '; raise timeout= if the server is only slow')

    def _answer(self, reply):
        """The text of a chat completion; a separate reasoning part comes first, closed by
        ``think_tag``, as OpenCompass joins them."""
        try:
            message = (reply.get('choices') or [{}])[0].get('message') or {}
        except (AttributeError, TypeError):
            raise EvalkitError(f'{self.url}: the answer is not a chat completion: '
                               f'{self._scrub(_first_line(json.dumps(reply)))}') from None
        content = message.get('content') or ''
        reasoning = message.get('reasoning_content') or ''
        if reasoning:
            return reasoning + self.think_tag + content if content else reasoning
        return content

    def _hint(self, status):
        if status in (401, 403):
            if self._key:
                return f' (check the API key in ${self._key_env})'
            if self._key_env:
                return f' (no API key was sent: ${self._key_env} is not set)'
            return " (no API key was sent: name the variable that holds it with key_env='...')"
        if status == 404:
            return f' (check the model name path={self.path!r} and openai_api_base)'
        return ''

    def _scrub(self, text):
        """A server may echo the key in its error message: never pass it on."""
        return text.replace(self._key, '***') if self._key else text

    def _note_progress(self, cached, sent):
        self._counts['cached'] += cached
        self._counts['sent'] += sent
        now = time.monotonic()
        if self._last_note is None or now - self._last_note >= PROGRESS_EVERY:
            self._last_note = now
            c = self._counts
            logger.info('%s: answers so far: %d (%d from the cache, %d requested, %d retries)',
                        self.name, c['cached'] + c['sent'], c['cached'], c['sent'], c['retries'])


def _server_message(exc):
    """The server's own words from an error response: OpenAI's error.message, FastAPI's detail,
    or the first line of the body."""
    try:
        raw = exc.read()
    except (OSError, HTTPException):
        raw = b''
    try:
        body = json.loads(raw)
    except ValueError:
        return _first_line(raw) or exc.reason or 'no message'
    if isinstance(body, dict):
        error = body.get('error', body.get('detail', body.get('message')))
        if isinstance(error, dict):
            error = error.get('message', error)
        if error:
            return _first_line(error if isinstance(error, str) else json.dumps(error))
    return _first_line(raw)


def _retry_after(headers):
    """Seconds from a Retry-After header (a number or an HTTP date), or None."""
    value = (headers or {}).get('Retry-After')
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _reason_text(reason):
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _first_line(text, limit=300):
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    lines = str(text).strip().splitlines()
    line = lines[0] if lines else ''
    return line if len(line) <= limit else line[:limit] + '...'
