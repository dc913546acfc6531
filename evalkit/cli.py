"""The command line: parse flags, turn them (or a config file) into a run config, run the pipeline.

Only argument handling lives here; the pipeline itself is in ``evalkit.pipeline``.
"""
import argparse
import ast
import os
import sys

from .utils.errors import EvalkitError
from .utils.paths import DATA_ROOT_ENV

EXAMPLES = """examples:
  python run.py configs/eval_demo.py --debug
  python run.py --datasets ceval_gen --hf-path /models/SmolLM2-135M-Instruct.Q4_1.gguf --max-out-len 16
  python run.py --datasets ceval_ppl --hf-path /models/qwen2-1.5b --hf-type base --batch-size 16
  python run.py --datasets ceval_gen --models hf_qwen2_5_1_5b_instruct --model-path /models/Qwen2.5-1.5B-Instruct
  python run.py configs/eval_demo.py -r            # resume the latest run in the work dir
  python run.py --custom-dataset-path my_mcq.jsonl my_qa.csv --hf-path /models/qwen2-1.5b
"""


def parse_kv(tokens, flag):
    """``k=v`` tokens into a dict; values are Python literals when they parse as one."""
    result = {}
    for token in tokens or []:
        key, sep, value = token.partition('=')
        if not sep or not key.strip() or not key.strip().isidentifier():
            raise EvalkitError(f"{flag}: malformed token {token!r}: write key=value, e.g. padding_side='left'")
        try:
            result[key.strip()] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            result[key.strip()] = value  # a bare word, e.g. pad_token=<|im_end|>
    return result


def build_parser():
    p = argparse.ArgumentParser(
        prog='python run.py', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Evaluate language models on benchmarks: inference, scoring and a summary table.',
        epilog=EXAMPLES)
    p.add_argument('config', nargs='?', help='a config file (models, datasets, summarizer); '
                   'or leave it out and name them with the flags below')
    g = p.add_argument_group('what to evaluate')
    g.add_argument('--datasets', nargs='+', metavar='NAME',
                   help='dataset config names under configs/datasets/ (e.g. ceval_gen ceval_ppl)')
    g.add_argument('--models', nargs='+', metavar='NAME',
                   help='model config names under configs/models/ (e.g. hf_internlm2_chat_7b; '
                        'python tools/list_configs.py NAME finds them)')
    g.add_argument('--model-path', metavar='PATH',
                   help='run the one --models config on this local copy (a folder or .gguf file), '
                        'for machines without hub access; everything else in the config is kept. '
                        '--hf-path does the same when --models is given')
    g.add_argument('--subsets', nargs='+', metavar='NAME',
                   help="keep only these datasets of the configs, by abbr, subject or pattern "
                        "(e.g. logic marxism 'high_school_*')")
    g.add_argument('--summarizer', metavar='NAME', help='summarizer config name under configs/summarizers/')
    g.add_argument('--data-root', metavar='DIR',
                   help=f'folder holding the benchmark data (default: ${DATA_ROOT_ENV}, else ./data)')
    c = p.add_argument_group(
        'your own questions in a file, no code needed (see docs/custom_dataset.md)',
        'Relative paths resolve against the current directory, not the data root. '
        'Multiple choice: columns question, A, B, ... (from A on), answer; '
        'open questions: question, answer.')
    c.add_argument('--custom-dataset-path', nargs='+', metavar='FILE',
                   help='.jsonl or .csv files, each evaluated as a dataset named after its file; '
                        'settings are read from FILE.meta.json when it is there')
    c.add_argument('--custom-dataset-meta-path', metavar='FILE',
                   help='the settings file for a single --custom-dataset-path (default: FILE.meta.json)')
    c.add_argument('--custom-dataset-dev-path', metavar='FILE',
                   help='in-context examples in the same form as the file (default: with "shots" in the '
                        'meta file, the first rows of the file itself, left out of the test)')
    c.add_argument('--custom-dataset-data-type', choices=['mcq', 'qa'],
                   help='multiple choice or open questions (default: detected from the columns)')
    c.add_argument('--custom-dataset-infer-method', choices=['gen', 'ppl'],
                   help='gen: the model writes its answer (default); '
                        'ppl: the most likely option wins (multiple choice only)')
    m = p.add_argument_group('a Hugging Face model given by path')
    m.add_argument('--hf-path', metavar='PATH', help='a model folder, a hub name, or a .gguf file')
    m.add_argument('--hf-type', choices=['base', 'chat'],
                   help='chat: prompts go through the chat template; base: plain text '
                        '(default: chat when the tokenizer has a chat template, else base)')
    m.add_argument('--tokenizer-path', metavar='PATH', help='tokenizer folder (default: the model path)')
    m.add_argument('--tokenizer-kwargs', nargs='+', metavar='K=V', default=[],
                   help="passed to AutoTokenizer.from_pretrained, e.g. padding_side='left'")
    m.add_argument('--model-kwargs', nargs='+', metavar='K=V', default=[],
                   help="passed to AutoModelForCausalLM.from_pretrained, e.g. torch_dtype='bfloat16'")
    m.add_argument('--generation-kwargs', nargs='+', metavar='K=V', default=[],
                   help='generation settings kept with the model config')
    m.add_argument('--max-seq-len', type=int, metavar='N',
                   help='longest prompt in tokens; longer prompts get fewer in-context examples (default 2048)')
    m.add_argument('--max-out-len', type=int, metavar='N', help='most tokens generated per answer (default 256)')
    m.add_argument('--batch-size', type=int, metavar='N', help='prompts per batch (default 8)')
    m.add_argument('--num-gpus', type=int, metavar='N',
                   help='GPUs per model worker, at most those of this machine (default: what the '
                        'model config asks for, 1 for --hf-path; 0, the CPU, on a machine without GPUs)')
    m.add_argument('--stop-words', nargs='+', default=[], metavar='WORD',
                   help='extra strings that end a generated answer')
    r = p.add_argument_group('running')
    r.add_argument('-w', '--work-dir', default='outputs/default', metavar='DIR',
                   help='where runs are written, one timestamped folder each (default outputs/default)')
    r.add_argument('-r', '--reuse', nargs='?', const='latest', metavar='TIMESTAMP',
                   help='resume the latest run (or the named one): finished work is kept')
    r.add_argument('-m', '--mode', choices=['all', 'infer', 'eval', 'viz'], default='all',
                   help='run everything (default), or only inference, scoring, or the summary')
    r.add_argument('--max-num-workers', type=int, metavar='N',
                   help='parallel worker processes (default: one per free GPU set, 1 on a CPU)')
    r.add_argument('--debug', action='store_true',
                   help='run every task in this process, one after another, with logs on the terminal')
    r.add_argument('--dry-run', action='store_true', help='print the tasks and stop')
    r.add_argument('--bootstrap', type=int, default=0, metavar='N',
                   help='add a 95%% bootstrap interval from N resamples (e.g. 1000) to every score; '
                        'standard errors are always given')
    s = p.add_argument_group('a Slurm cluster (see docs/slurm.md)',
                             'Each task becomes a Slurm job (srun) with the GPUs its model asks for\n'
                             '(--gres=gpu:N). The work dir and the Python environment must be on a\n'
                             'filesystem the nodes share. Ctrl-C cancels the run\'s jobs.')
    s.add_argument('--slurm', action='store_true',
                   help='run tasks as Slurm jobs, one submitted as the previous one starts, up to '
                        '--max-num-workers at once (default 32)')
    s.add_argument('-p', '--partition', metavar='NAME', help='the Slurm partition (srun -p)')
    s.add_argument('-q', '--quotatype', metavar='QOS', help='the quality of service of the jobs (srun --qos)')
    s.add_argument('--retry', type=int, metavar='N',
                   help='try a failed task again up to N times; it resumes from its saved batches '
                        '(default 2 on Slurm, 0 locally)')
    n = p.add_argument_group('notifications')
    n.add_argument('--notify-url', metavar='URL',
                   help='post a short JSON summary to this webhook when the run ends or fails '
                        '(a hook that is down costs a warning, never the run)')
    n.add_argument('--notify-format', choices=['generic', 'lark'], default='generic',
                   help='generic: the summary as the JSON body (default); lark: a Lark/Feishu bot text message')
    return p


HF_TYPES = {'chat': 'HuggingFacewithChatTemplate', 'base': 'HuggingFaceBaseModel'}


def hf_model_cfg(args):
    from .config import model_abbr
    from .models.sources import locate_model
    locate_model(args.hf_path, 'give --hf-path an existing model folder, a .gguf file, or a hub name '
                 'such as Qwen/Qwen2.5-0.5B-Instruct')  # before anything else runs
    tokenizer_kwargs = parse_kv(args.tokenizer_kwargs, '--tokenizer-kwargs')
    cfg = dict(
        type=HF_TYPES[args.hf_type or default_hf_type(args.tokenizer_path or args.hf_path, tokenizer_kwargs)],
        path=args.hf_path,
        tokenizer_path=args.tokenizer_path,
        tokenizer_kwargs=tokenizer_kwargs,
        model_kwargs=parse_kv(args.model_kwargs, '--model-kwargs'),
        generation_kwargs=parse_kv(args.generation_kwargs, '--generation-kwargs'),
        max_seq_len=args.max_seq_len or 2048,
        max_out_len=args.max_out_len or 256,
        batch_size=args.batch_size or 8,
        stop_words=list(args.stop_words),
        run_cfg=dict(num_gpus=1),  # fitted to the machine by fit_gpus
    )
    cfg['abbr'] = model_abbr(cfg)
    return cfg


def default_hf_type(tokenizer_path, tokenizer_kwargs):
    """'chat' when the tokenizer has a chat template, else 'base'; the log says which and why."""
    from .models.sources import has_chat_template
    from .utils.logging import get_logger
    if has_chat_template(tokenizer_path, tokenizer_kwargs):
        get_logger().info('--hf-type chat: the tokenizer of %s has a chat template '
                          '(--hf-type base for plain-text prompts)', tokenizer_path)
        return 'chat'
    get_logger().info('--hf-type base: the tokenizer of %s has no chat template', tokenizer_path)
    return 'base'


def is_hf_model(cfg):
    from .models.huggingface import HuggingFaceBaseModel
    from .registry import resolve
    try:
        cls = resolve(cfg.get('type'))
    except Exception:  # an unknown type is reported when the model is built
        return False
    return isinstance(cls, type) and issubclass(cls, HuggingFaceBaseModel)


def on_local_copy(cfg, path, args):
    """A named model config run on a local copy: the path replaced, everything else kept, and
    the flags that describe the model (type, tokenizer, kwargs) applied when given."""
    cfg = dict(cfg, path=path)
    if cfg.get('tokenizer_path') and not os.path.exists(os.path.expanduser(str(cfg['tokenizer_path']))):
        cfg.pop('tokenizer_path')  # a hub tokenizer: the local copy carries its own
    if args.tokenizer_path:
        cfg['tokenizer_path'] = args.tokenizer_path
    if args.hf_type:
        cfg['type'] = HF_TYPES[args.hf_type]
    for key, flag in (('tokenizer_kwargs', '--tokenizer-kwargs'), ('model_kwargs', '--model-kwargs')):
        extra = parse_kv(getattr(args, key), flag)
        if extra:
            cfg[key] = {**(cfg.get(key) or {}), **extra}
    if args.stop_words:
        cfg['stop_words'] = list(cfg.get('stop_words') or []) + list(args.stop_words)
    return cfg


def available_gpus(requested):
    """The number of GPUs this machine has; an error when --num-gpus asks for more."""
    from .runners.local import visible_gpus
    available = len(visible_gpus())
    if requested is not None and (requested < 0 or requested > available):
        where = (f' (CUDA_VISIBLE_DEVICES={os.environ["CUDA_VISIBLE_DEVICES"]})'
                 if 'CUDA_VISIBLE_DEVICES' in os.environ else '')
        fix = 'leave --num-gpus out to run on the CPU' if not available else f'give --num-gpus {available} or less'
        raise EvalkitError(f'--num-gpus {requested}: this machine has {available} GPU(s){where}; {fix}')
    return available


def fit_gpus(models, requested, available):
    """Set each Hugging Face model's ``run_cfg.num_gpus``: ``requested`` (--num-gpus) when given,
    else what its config asks for, never more than the ``available`` GPUs; 0 (the CPU) without any."""
    from .utils.logging import get_logger
    for cfg in models:
        if not is_hf_model(cfg):
            continue
        run_cfg = dict(cfg.get('run_cfg') or {})
        wanted = requested if requested is not None else run_cfg.get('num_gpus', 1)
        if wanted > available:
            if available:
                get_logger().warning('%s asks for %d GPUs; this machine has %d: it gets %d',
                                     cfg.get('abbr') or cfg.get('path'), wanted, available, available)
            wanted = available
        run_cfg['num_gpus'] = wanted
        cfg['run_cfg'] = run_cfg


def named_models(args):
    """The --models configs, on the local copy of --model-path (or --hf-path) when given."""
    from .config import load_named
    from .models.sources import locate_model
    named = [(name, cfg) for name in args.models for cfg in load_named('models', [name])]
    local = args.model_path or args.hf_path
    if args.model_path and args.hf_path and args.model_path != args.hf_path:
        raise EvalkitError('--model-path and --hf-path both name a local copy for --models: give one')
    if local:
        if len(named) != 1:
            raise EvalkitError(f'--model-path {local}: give one --models NAME to run on it '
                               f'(the configs named hold {len(named)} models)')
        named = [(named[0][0], on_local_copy(named[0][1], local, args))]
    if args.mode in ('all', 'infer'):  # scoring and the summary need no model files
        for name, cfg in named:
            if is_hf_model(cfg):
                locate_model(cfg['path'], f'give a local copy with --models {name} --model-path DIR')
    models = [cfg for _, cfg in named]
    return models


def select_subsets(datasets, patterns):
    """Datasets whose abbr, name or abbr tail matches one of ``patterns`` (fnmatch)."""
    from fnmatch import fnmatchcase

    from .config import dataset_abbr

    def keys(d):
        abbr = dataset_abbr(d)
        return {abbr, str(d.get('name')), abbr.rpartition('-')[2]}
    kept = [d for d in datasets if any(fnmatchcase(k, p) for k in keys(d) for p in patterns)]
    unmatched = [p for p in patterns if not any(fnmatchcase(k, p) for d in datasets for k in keys(d))]
    if unmatched:
        raise EvalkitError(f'--subsets: {", ".join(unmatched)} match no dataset of the chosen configs')
    return kept


def custom_datasets(args):
    """The dataset dicts of the --custom-dataset-path files."""
    paths = args.custom_dataset_path or []
    for flag, value in (('--custom-dataset-meta-path', args.custom_dataset_meta_path),
                        ('--custom-dataset-dev-path', args.custom_dataset_dev_path)):
        if value and len(paths) != 1:
            raise EvalkitError(f'{flag} goes with one --custom-dataset-path file '
                               '(for several files, put FILE.meta.json next to each)')
    for flag, value in (('--custom-dataset-data-type', args.custom_dataset_data_type),
                        ('--custom-dataset-infer-method', args.custom_dataset_infer_method)):
        if value and not paths:
            raise EvalkitError(f'{flag} needs --custom-dataset-path FILE')
    from .datasets.custom import custom_dataset_cfg
    return [custom_dataset_cfg(path, meta_path=args.custom_dataset_meta_path,
                               dev_path=args.custom_dataset_dev_path,
                               data_type=args.custom_dataset_data_type,
                               infer_method=args.custom_dataset_infer_method)
            for path in paths]


def uses_slurm_runner(cfg):
    from .registry import resolve
    from .runners import SlurmRunner
    runner = ((cfg.get('infer') or {}).get('runner') or {}).get('type')
    return runner is not None and issubclass(resolve(runner), SlurmRunner)


def build_run_config(args):
    """models, datasets and summarizer from a config file and/or the flags."""
    from .config import collect, find_config, load_config, load_named
    if args.model_path and not args.models:
        raise EvalkitError('--model-path goes with --models NAME (a named config on a local copy); '
                           'for a model of your own give --hf-path PATH')
    cfg = load_config(args.config) if args.config else {}
    # A Slurm job gets its GPUs on a node: this machine's count bounds nothing there.
    slurm = args.slurm or uses_slurm_runner(cfg)
    gpus = float('inf') if slurm else available_gpus(args.num_gpus)  # a wrong --num-gpus stops the run early
    datasets = collect(cfg, '_datasets') or list(cfg.get('datasets') or [])
    models = list(cfg.get('models') or [])
    if args.datasets:
        datasets = load_named('datasets', args.datasets)
    if args.subsets:
        datasets = select_subsets(datasets, args.subsets)
    datasets += custom_datasets(args)
    flagged = []  # the model built from --hf-path and the flags, which already hold them
    if args.models:
        models = named_models(args)
    elif args.hf_path:
        flagged = [hf_model_cfg(args)]
    elif args.config is None:
        raise EvalkitError('no model given: name one with --hf-path PATH or --models NAME '
                           '(python tools/list_configs.py lists them)')
    for model in models:
        for key in ('max_seq_len', 'max_out_len', 'batch_size'):
            if getattr(args, key) is not None and not flagged:  # with --hf-path they are its own
                model[key] = getattr(args, key)
    models += flagged
    fit_gpus(models, args.num_gpus, gpus)
    if not datasets:
        raise EvalkitError('no datasets given: name them with --datasets NAME (e.g. ceval_gen), '
                           'give your own file with --custom-dataset-path FILE, or use a config file')
    summarizer = cfg.get('summarizer')
    if args.summarizer:
        summarizer = load_config(find_config('summarizers', args.summarizer)).get('summarizer')
    judging = {k: cfg[k] for k in ('judge_models', 'eval', 'infer') if k in cfg}  # runners, judges
    return {'models': models, 'datasets': datasets, 'summarizer': summarizer, **judging}


def main(argv=None):
    args = build_parser().parse_args(argv)
    from .config import IMPORT_PATHS_ENV
    saved_env = {k: os.environ.get(k) for k in (DATA_ROOT_ENV, IMPORT_PATHS_ENV)}
    if args.data_root:
        # Configs read the data root while they load (eval_demo.py adds C-Eval when it is there).
        os.environ[DATA_ROOT_ENV] = os.path.abspath(args.data_root)
    from .pipeline import run_pipeline
    from .utils.logging import get_logger
    from .utils.notify import RunNotice
    notice = RunNotice(args)  # --notify-url: posted however the run ends
    try:
        run_cfg = build_run_config(args)
        return notice.result(run_pipeline(run_cfg, args))
    except EvalkitError as exc:
        get_logger().error('%s', exc)
        return notice.result(2, exc)
    except KeyboardInterrupt:
        get_logger().error('interrupted: finished work is kept; resume with -r')
        return notice.result(130, 'interrupted')
    finally:
        notice.send()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


if __name__ == '__main__':
    sys.exit(main())
