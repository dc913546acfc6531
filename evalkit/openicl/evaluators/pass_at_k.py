"""pass@k for code: each completion runs with its problem's tests in a sandboxed subprocess."""
import math

from ...utils.errors import EvalkitError
from ...utils.sandbox import run_programs
from .base import BaseEvaluator
from .text import as_text


class PassAtKEvaluator(BaseEvaluator):
    """``pass@k`` for each k in ``k``: the chance that at least one of k completions drawn from a
    problem's n passes its tests, by the unbiased estimator of Chen et al. (2021), averaged over
    problems, in percent.

    A prediction is one completion or a list of n completions. A reference is a dict with
    ``test`` (code that raises when the completion is wrong), optional ``prompt`` (the code the
    completion continues) and optional ``entry_point`` (the function name given to ``check``), or
    the test code alone. The program run is, as in OpenAI's human-eval::

        prompt + completion + "\\n" + test + "\\n" + (f"check({entry_point})" if entry_point else "")

    It passes when it exits normally within ``timeout`` seconds under a ``memory_mb`` address
    space limit (see ``evalkit.utils.sandbox``); ``workers`` programs run at a time (default:
    the CPU count). Details give each problem's pass@k, the number passed, and each completion's
    status ('passed', 'failed', 'timeout') and error line.
    """

    def __init__(self, k=(1,), timeout=5.0, memory_mb=1024, workers=None, bootstrap=0, seed=0):
        super().__init__(bootstrap=bootstrap, seed=seed)
        self.k = (k,) if isinstance(k, int) else tuple(k)
        if not self.k or not all(isinstance(v, int) and v > 0 for v in self.k):
            raise EvalkitError(f'PassAtKEvaluator k={k!r}: give positive integers, e.g. k=(1, 10)')
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.workers = workers

    def evaluate(self, predictions, references):
        problems = [code_problem(r, i) for i, r in enumerate(references)]
        completions = [[as_text(c) for c in p] if isinstance(p, (list, tuple)) else [as_text(p)]
                       for p in predictions]
        self._check_enough(completions)
        programs = [build_program(problem, c) for problem, cs in zip(problems, completions) for c in cs]
        outcomes = iter(run_programs(programs, self.timeout, self.memory_mb, self.workers))
        scores = {f'pass@{k}': [] for k in self.k}
        details = []
        for pred, ref, cs in zip(predictions, references, completions):
            runs = [next(outcomes) for _ in cs]
            passed = sum(run.passed for run in runs)
            detail = {'pred': pred, 'gold': ref, 'passed': passed, 'n': len(cs)}
            for k in self.k:
                scores[f'pass@{k}'].append(pass_at_k(len(cs), passed, k))
                detail[f'pass@{k}'] = 100.0 * scores[f'pass@{k}'][-1]
            detail['status'] = [run.status for run in runs]
            detail['error'] = [run.error for run in runs]
            details.append(detail)
        return self.summarize(scores), details

    def _check_enough(self, completions):
        fewest = min(range(len(completions)), key=lambda i: len(completions[i]))
        n = len(completions[fewest])
        if n == 0:
            raise EvalkitError(f'prediction {fewest} has no completion: give a string or a non-empty list')
        if max(self.k) > n:
            raise EvalkitError(f'pass@{max(self.k)} needs at least {max(self.k)} completions per problem, '
                               f'but prediction {fewest} has {n}: lower k or sample more completions')


def code_problem(reference, row):
    """The reference as {'prompt', 'test', 'entry_point'}."""
    if isinstance(reference, str):
        return {'prompt': '', 'test': reference, 'entry_point': None}
    if not isinstance(reference, dict) or not isinstance(reference.get('test'), str):
        raise EvalkitError(f"reference {row} is not a code problem: give a dict with 'test' (and optional "
                           f"'prompt', 'entry_point'), or the test code; got {as_text(reference)[:80]!r}")
    return {'prompt': as_text(reference.get('prompt')), 'test': reference['test'],
            'entry_point': reference.get('entry_point') or None}


def build_program(problem, completion):
    check = f"check({problem['entry_point']})" if problem['entry_point'] else ''
    return problem['prompt'] + completion + '\n' + problem['test'] + '\n' + check


def pass_at_k(n, c, k):
    """1 - C(n-c, k) / C(n, k): the chance that k of n completions, c of them correct, hold one
    correct (Chen et al. 2021), computed as a product to stay stable for large n."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))
