"""``--notify-url URL``: a short JSON summary posted when a run ends or fails.

Two formats: ``generic`` (the summary itself as the JSON body) and ``lark`` (a Lark/Feishu custom
bot's text message, ``{"msg_type": "text", "content": {"text": ...}}``). The post has a short
timeout, and a hook that is down or answers with an error costs one warning line: a notification
never changes how a run ends.
"""
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from .logging import get_logger

logger = get_logger()

FORMATS = ('generic', 'lark')
TIMEOUT_S = 5


def run_summary(status, exit_code, run_dir=None, error=None, elapsed=None):
    """The notification's content: how the run ended, where it is, and its headline scores."""
    summary = {'event': 'run_finished' if status == 'finished' else 'run_failed', 'status': status,
               'exit_code': exit_code, 'host': socket.gethostname()}
    if elapsed is not None:
        summary['elapsed_s'] = round(elapsed, 1)
    if error:
        summary['error'] = str(error)
    if run_dir is not None:
        summary.update(run_scores(run_dir))
    return summary


def run_scores(run_dir):
    """The run's folder, models, dataset count, headline scores and report, as far as they exist."""
    from ..report.data import Run, headline_scores
    from ..report.run_page import report_path
    run = Run(run_dir)
    found = {'run': run.stamp, 'run_dir': str(run.path)}
    try:
        found.update(models=run.models, datasets=len(run.dataset_rows), headline=headline_scores(run))
        if run.group_rows:
            found['groups'] = {g.name: {m: round(v.value, 2) for m, v in g.scores.items()} for g in run.group_rows}
    except Exception as exc:  # a half-written run still gets its notification
        found['summary_error'] = f'{type(exc).__name__}: {exc}'
    report = report_path(run_dir)
    if report.exists():
        found['report'] = str(report.resolve())
    return found


def lark_message(summary):
    """The summary as a Lark/Feishu bot text message."""
    lines = [f'evalkit run {summary.get("run", "")} {summary["status"]} '
             f'(exit {summary["exit_code"]}) on {summary["host"]}'.replace('  ', ' ')]
    if 'elapsed_s' in summary:
        lines.append(f'time: {summary["elapsed_s"]:.0f} s')
    if summary.get('error'):
        lines.append(f'error: {summary["error"]}')
    for model, text in (summary.get('headline') or {}).items():
        lines.append(f'{model}: {text}')
    if summary.get('report'):
        lines.append(f'report: {summary["report"]}')
    return {'msg_type': 'text', 'content': {'text': '\n'.join(lines)}}


def post_json(url, body, timeout=TIMEOUT_S):
    request = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode('utf-8'),
                                     headers={'Content-Type': 'application/json; charset=utf-8'},
                                     method='POST')
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read(65536).decode('utf-8', 'replace')


def notify(url, summary, fmt='generic', timeout=TIMEOUT_S):
    """Post ``summary``; returns True when the hook took it. Never raises."""
    body = lark_message(summary) if fmt == 'lark' else summary
    where = urllib.parse.urlsplit(url).netloc or url  # the path may hold a bot's token: not logged
    start = time.monotonic()
    try:
        answer = post_json(url, body, timeout)
    except urllib.error.HTTPError as exc:
        logger.warning('notification to %s not taken: HTTP %s %s', where, exc.code, exc.reason)
        return False
    except Exception as exc:  # a hook that is down must not fail the run
        reason = getattr(exc, 'reason', None) or exc
        logger.warning('notification to %s not sent (%s after %.1f s): the run itself is unaffected',
                       where, reason, time.monotonic() - start)
        return False
    refused = bot_refusal(answer) if fmt == 'lark' else None
    if refused:
        logger.warning('notification to %s refused by the bot: %s', where, refused)
        return False
    logger.info('notification sent to %s', where)
    return True


def bot_refusal(answer):
    """A Lark/Feishu bot answers HTTP 200 with a non-zero ``code`` when it refuses a message."""
    try:
        reply = json.loads(answer)
    except ValueError:
        return None
    code = reply.get('code', reply.get('StatusCode', 0)) if isinstance(reply, dict) else 0
    return f'code {code}: {reply.get("msg", "")}' if code else None


class RunNotice:
    """The end-of-run notification of one command line: ``result`` records how the run ended,
    ``send`` posts it (an escaped exception counts as a crash). Nothing without ``--notify-url``."""

    STATUS = {0: 'finished', 1: 'failed', 2: 'error', 130: 'interrupted'}

    def __init__(self, args):
        self.args = args
        self.url = getattr(args, 'notify_url', None)
        self.fmt = getattr(args, 'notify_format', None) or 'generic'
        self.start = time.monotonic()
        self.code, self.error = None, None

    def result(self, code, error=None):
        self.code, self.error = code, error
        return code

    def send(self):
        if not self.url or getattr(self.args, 'dry_run', False):
            return None
        import sys
        code, error = self.code, self.error
        if code is None:  # an exception is on its way out of the run
            exc = sys.exc_info()[1]
            code, error = 1, f'{type(exc).__name__}: {exc}' if exc else 'stopped'
            status = 'crashed'
        else:
            status = self.STATUS.get(code, 'failed')
        if code == 1 and not error and status == 'failed':
            error = 'some tasks failed: see the run\'s logs/'
        summary = run_summary(status, code, getattr(self.args, 'run_dir', None), error,
                              time.monotonic() - self.start)
        return notify(self.url, summary, self.fmt)
