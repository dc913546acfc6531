#!/usr/bin/env python
"""Put a benchmark's official files where evalkit reads them.

    python tools/prepare_data.py ceval --source ceval-exam.zip [--data-root DIR]
    python tools/prepare_data.py mmlu --source data.tar
    python tools/prepare_data.py humaneval --source HumanEval.jsonl.gz

Each benchmark is one entry in ``PREPARERS``: a function that adds its options to an argparse
sub-parser and a function that does the work. CMMLU, MMLU, GSM8K and HumanEval are described by a
``FileSet`` (the files wanted, where they go, how many rows each part must have) and share one
preparer; C-Eval keeps its own, which also checks the CSV headers.
"""
import argparse
import contextlib
import functools
import gzip
import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from evalkit.datasets.ceval_subjects import CEVAL_SPLITS, CEVAL_SUBJECTS  # noqa: E402
from evalkit.datasets.cmmlu import read_cmmlu_csv  # noqa: E402
from evalkit.datasets.cmmlu_subjects import CMMLU_SPLITS, CMMLU_SUBJECTS  # noqa: E402
from evalkit.datasets.gsm8k import read_gsm8k_jsonl  # noqa: E402
from evalkit.datasets.humaneval import read_humaneval_jsonl  # noqa: E402
from evalkit.datasets.mmlu import read_mmlu_csv  # noqa: E402
from evalkit.datasets.mmlu_subjects import MMLU_SPLITS, MMLU_SUBJECTS  # noqa: E402
from evalkit.utils.errors import EvalkitError, run_tool  # noqa: E402
from evalkit.utils.paths import DATA_ROOT_ENV, data_root  # noqa: E402

DOWNLOAD_TIMEOUT_S = 60
# What reading a damaged or unsupported archive member can raise (encrypted zip members:
# RuntimeError; a damaged gzip: BadGzipFile, an OSError, so it is caught before write errors).
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
                   gzip.BadGzipFile, tarfile.TarError)
CEVAL_OFFICIAL_URL = ('https://huggingface.co/datasets/ceval/ceval-exam/resolve/main/'
                      'ceval-exam.zip')


def _is_url(source):
    return re.match(r'^https?://', source, re.IGNORECASE) is not None


def _download(url, folder):
    """Fetch ``url`` into ``folder`` under its own file name (which tells a .gz or a .tar from a
    zip); return the file's path. Failures become EvalkitError."""
    name = PurePosixPath(urllib.parse.urlparse(url).path).name
    target = Path(folder) / (name if name and not name.startswith('.') else 'download')
    print(f'downloading {url} ...', file=sys.stderr, flush=True)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp, \
                open(target, 'wb') as out:
            shutil.copyfileobj(resp, out, 1 << 20)
    except urllib.error.HTTPError as e:
        raise EvalkitError(f'download of {url} failed: HTTP {e.code} {e.reason}') from None
    except urllib.error.URLError as e:
        raise EvalkitError(f'download of {url} failed: {e.reason}') from None
    except (OSError, ValueError) as e:
        raise EvalkitError(f'download of {url} failed: {e}') from None
    return target


TAR_SUFFIXES = ('.tar', '.tar.gz', '.tgz', '.tar.bz2', '.tar.xz')


class _Source:
    """A zip file, a tar file, a folder or one plain file: its files, named by relative posix
    paths, and a way to open them (a ``.gz`` file opens unpacked). ``kind`` says what to give
    when the source does not exist."""

    def __init__(self, path, label=None, kind='an archive, a folder or an http(s) URL'):
        self.path = Path(path)
        self.label = label or str(self.path)  # how messages name it (the URL, for a download)
        self.zip = self.tar = None
        if self.path.is_dir():
            return
        if not self.path.is_file():
            raise EvalkitError(f'source {self.path} does not exist (give {kind})')
        name = self.path.name.lower()
        try:
            if name.endswith('.zip'):
                self.zip = zipfile.ZipFile(self.path)
            elif name.endswith(TAR_SUFFIXES):
                self.tar = tarfile.open(self.path)
            elif not name.endswith('.gz'):  # an archive by content, whatever its name
                if zipfile.is_zipfile(self.path):
                    self.zip = zipfile.ZipFile(self.path)
                elif tarfile.is_tarfile(self.path):
                    self.tar = tarfile.open(self.path)
        except zipfile.BadZipFile:
            raise EvalkitError(f'source {self.label} is not a valid zip file') from None
        except tarfile.TarError:
            raise EvalkitError(f'source {self.label} is not a valid tar file') from None
        except OSError as e:
            raise EvalkitError(f'cannot read source {self.label}: {e}') from None

    def close(self):
        for archive in (self.zip, self.tar):
            if archive is not None:
                archive.close()

    def entries(self):
        """Yield relative posix paths of the regular files in the source."""
        if self.zip is not None:
            for info in self.zip.infolist():
                if not info.is_dir():
                    yield info.filename.replace('\\', '/')
        elif self.tar is not None:
            for member in self.tar.getmembers():
                if member.isfile():
                    yield member.name
        elif self.path.is_file():
            yield self.path.name
        else:
            for dirpath, dirnames, filenames in os.walk(self.path):
                dirnames.sort()
                rel = Path(dirpath).relative_to(self.path)
                for name in sorted(filenames):
                    yield (rel / name).as_posix()

    def _raw(self, rel):
        if self.zip is not None:
            return self.zip.open(rel)
        if self.tar is not None:
            return self.tar.extractfile(rel)
        return open(self.path if self.path.is_file() else self.path / rel, 'rb')

    @contextlib.contextmanager
    def open(self, rel):
        """A binary reader of one entry; a ``.gz`` entry reads unpacked."""
        with self._raw(rel) as raw:
            if rel.lower().endswith('.gz'):
                with gzip.GzipFile(fileobj=raw) as unpacked:
                    yield unpacked
            else:
                yield raw


def _unpacked(entry):
    """The path an entry has once read: without ``.gz``."""
    return entry[:-3] if entry.lower().endswith('.gz') else entry


def _replace_folder(dest, fill):
    """Build ``dest`` atomically: ``fill(tmp)`` writes into a temporary folder beside ``dest``,
    which then takes ``dest``'s place. On any failure ``dest`` is left as it was."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise EvalkitError(f'{dest} exists and is not a folder; move it away first')
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f'.{dest.name}.tmp-'))
    old = None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700; give it a normal folder's mode
        fill(tmp)
        if dest.exists() or dest.is_symlink():
            old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f'.{dest.name}.old-'))
            os.rmdir(old)
            os.replace(dest, old)
            try:
                os.replace(tmp, dest)
            except BaseException:
                os.replace(old, dest)
                old = None
                raise
        else:
            os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        if old.is_symlink():
            old.unlink()
        else:
            shutil.rmtree(old, ignore_errors=True)


def _candidates(source, want):
    """{base folder: {wanted path: entry}} for every folder under which wanted paths sit.

    Wanted paths are relative (``dev/anatomy.csv``, ``test.jsonl``) and may sit at any depth (an
    official archive may wrap them in a top-level folder; a data root holding them works too);
    ``.gz`` files count as their unpacked selves. Hidden entries (.git, macOS '._' files,
    leftovers of an interrupted run) never count.
    """
    depths = {len(PurePosixPath(w).parts) for w in want}
    bases = {}
    for entry in source.entries():
        parts = PurePosixPath(_unpacked(entry)).parts
        if any(part.startswith('.') for part in parts) or '__MACOSX' in parts:
            continue
        for depth in depths:
            rel = '/'.join(parts[-depth:])
            if len(parts) >= depth and rel in want:
                bases.setdefault('/'.join(parts[:-depth]) or '.', {})[rel] = entry
    return bases


def _locate(source, want, title, archive):
    """Map each wanted path to its entry in the source, from the one base folder holding them
    all. Where a source holds files of the same name for other benchmarks (MMLU and C-Eval share
    some), the base holding the most wanted files is used."""
    want = set(want)
    bases = _candidates(source, want)
    best = max(bases.values(), key=len, default={})
    complete = [b for b, files in bases.items() if len(files) == len(want)]
    if len(complete) > 1:
        shown = ', '.join(b if b != '.' else '(top level)' for b in sorted(complete)[:3])
        raise EvalkitError(f'source {source.label} holds {len(complete)} complete copies of '
                           f'{title} ({shown}); point --source at one of them')
    missing = sorted(rel for rel in want if rel not in best)
    if missing:
        shown = ', '.join(missing[:3]) + (', ...' if len(missing) > 3 else '')
        hint = f' (is this the {title} {archive}?)' if not best else ''
        raise EvalkitError(f'source {source.label} lacks {len(missing)} of {len(want)} {title} '
                           f'files: {shown}{hint}')
    return best


@contextlib.contextmanager
def _opened(args, kind):
    """The ``--source`` of ``args`` as a _Source, downloaded first when it is a URL."""
    with tempfile.TemporaryDirectory(prefix='evalkit-download-') as dl:
        src_path = _download(args.source, dl) if _is_url(args.source) \
            else Path(args.source).expanduser()
        source = _Source(src_path, label=args.source, kind=kind)
        try:
            yield source
        except ZIP_READ_ERRORS as e:
            raise EvalkitError(f'cannot read {args.source}: {e}') from None
        finally:
            source.close()


def _install(source, plan, dest, verify=None):
    """Copy ``plan`` ({path under dest: source entry}) into ``dest`` atomically; ``verify(tmp)``
    may check the copies and stop with an EvalkitError, leaving ``dest`` as it was."""
    def fill(tmp):
        for rel, entry in sorted(plan.items()):
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            with source.open(entry) as fin, open(tmp / rel, 'wb') as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
        if verify is not None:
            verify(tmp)

    try:
        _replace_folder(dest, fill)
    except ZIP_READ_ERRORS as e:
        raise EvalkitError(f'cannot read {source.label}: {e}; {dest} was left as it was') from None
    except OSError as e:
        raise EvalkitError(f'could not write {dest}: {e}') from None


# --------------------------------------------------------------------------------------------
# C-Eval

CEVAL_DEST = Path('ceval') / 'formal_ceval'


def _locate_ceval(source):
    """Map each ``<split>/<subject>_<split>.csv`` to its entry in the source, and check that
    each looks like a C-Eval CSV."""
    want = [f'{split}/{subject}_{split}.csv' for split in CEVAL_SPLITS for subject in CEVAL_SUBJECTS]
    best = _locate(source, want, 'C-Eval', 'ceval-exam.zip')
    for rel, entry in best.items():
        with source.open(entry) as f:
            head = f.read(256)
        header = head.decode('utf-8-sig', errors='replace').splitlines()[:1]
        if not header or 'question' not in header[0].split(','):
            raise EvalkitError(f'{entry} in {source.label} does not look like a C-Eval CSV '
                               '(its header has no "question" column)')
    return best


def _add_ceval_args(parser):
    parser.add_argument(
        '--source', required=True, metavar='PATH_OR_URL',
        help='the official ceval-exam.zip (a local path, or an http(s) URL to download it from, '
             f'e.g. {CEVAL_OFFICIAL_URL}), or a local folder holding its CSVs. Either way the '
             'files are <split>/<subject>_<split>.csv in dev/, val/ and test/ folders, which may '
             'sit at any depth (a formal_ceval folder, or a data root holding one, works too). '
             'All 52 subjects x 3 splits must be there, or nothing is written. Nothing is '
             'downloaded unless a URL is given here.')


def prepare_ceval(args, root):
    """Copy the 52 subjects x 3 splits of C-Eval into ``<root>/ceval/formal_ceval``."""
    dest = root / CEVAL_DEST
    with _opened(args, 'a ceval-exam.zip, a folder of its CSVs, or an http(s) URL') as source:
        plan = _locate_ceval(source)
        _install(source, plan, dest)
    print(f'prepared C-Eval: {len(plan)} files ({len(CEVAL_SUBJECTS)} subjects x '
          f'{len(CEVAL_SPLITS)} splits) in {dest}')


# --------------------------------------------------------------------------------------------
# CMMLU, MMLU, GSM8K, HumanEval: files found by name, copied, then read back and counted


class FileSet:
    """What one benchmark's preparer installs.

    ``files`` maps each path under ``<data-root>/<dest>`` to the names it may have in the source
    (the first name found wins; ``.gz`` files count unpacked). ``parts`` maps a label (a split)
    to its files and the number of rows the official release has there; ``read`` is evalkit's
    reader of one file, which also checks every row.
    """

    def __init__(self, title, dest, files, parts, read, archive, url, layout):
        self.title, self.dest, self.files, self.parts, self.read = title, Path(dest), files, parts, read
        self.archive, self.url, self.layout = archive, url, layout

    def locate(self, source):
        """{path under dest: source entry}."""
        if all(len(alts) == 1 for alts in self.files.values()):  # all must sit under one folder
            found = _locate(source, [alts[0] for alts in self.files.values()], self.title, self.archive)
            return {rel: found[alts[0]] for rel, alts in self.files.items()}
        plan = {}
        for rel, alts in self.files.items():
            for alt in alts:
                found = [files[alt] for files in _candidates(source, {alt}).values()]
                if len(found) > 1:
                    raise EvalkitError(f'source {source.label} holds {len(found)} files named {alt} '
                                       f'({", ".join(found[:3])}); point --source at one of them')
                if found:
                    plan[rel] = found[0]
                    break
            else:
                raise EvalkitError(f'source {source.label} lacks the {self.title} file '
                                   f'(one of {", ".join(alts)}; is this the {self.archive}?)')
        return plan

    def verify(self, tmp, plan, source):
        """Read every copied file back; each part must have its official number of rows."""
        counts = {}
        for label, (rels, expected) in self.parts.items():
            n = 0
            for rel in rels:
                try:
                    n += len(self.read(tmp / rel))
                except EvalkitError as e:  # name the file as the user knows it
                    raise EvalkitError(str(e).replace(str(tmp / rel), f'{plan[rel]} in {source.label}')) \
                        from None
            if n != expected:
                raise EvalkitError(f'{self.title} {label} in {source.label} has {n} rows, expected '
                                   f'{expected} (the official release); nothing was written')
            counts[label] = n
        return counts


def _subject_csvs(subjects, splits, file_name, rows):
    """files and parts of a benchmark with one CSV per subject and split."""
    per_split = {split: [f'{split}/{file_name(subject, split)}' for subject in subjects] for split in splits}
    files = {rel: (rel,) for rels in per_split.values() for rel in rels}
    parts = {f'{split} split': (rels, rows[split]) for split, rels in per_split.items()}
    return files, parts


CMMLU_FILES = FileSet(
    'CMMLU', 'cmmlu',
    *_subject_csvs(CMMLU_SUBJECTS, CMMLU_SPLITS, lambda subject, split: f'{subject}.csv',
                   {'dev': 335, 'test': 11582}),
    read=read_cmmlu_csv, archive='cmmlu_v1_0_1.zip',
    url='https://huggingface.co/datasets/haonan-li/cmmlu/resolve/main/cmmlu_v1_0_1.zip',
    layout='<split>/<subject>.csv in dev/ and test/ folders, 67 subjects x 2 splits')
MMLU_FILES = FileSet(
    'MMLU', 'mmlu',
    *_subject_csvs(MMLU_SUBJECTS, MMLU_SPLITS, lambda subject, split: f'{subject}_{split}.csv',
                   {'dev': 285, 'val': 1531, 'test': 14042}),
    read=read_mmlu_csv, archive='data.tar', url='https://people.eecs.berkeley.edu/~hendrycks/data.tar',
    layout='<split>/<subject>_<split>.csv in dev/, val/ and test/ folders, 57 subjects x 3 splits')
GSM8K_FILES = FileSet(
    'GSM8K', 'gsm8k', {'train.jsonl': ('train.jsonl',), 'test.jsonl': ('test.jsonl',)},
    {'train.jsonl': (['train.jsonl'], 7473), 'test.jsonl': (['test.jsonl'], 1319)},
    read=read_gsm8k_jsonl, archive='grade-school-math repository zip',
    url='https://github.com/openai/grade-school-math/archive/refs/heads/master.zip',
    layout='train.jsonl and test.jsonl side by side (grade_school_math/data/ in the repository)')
HUMANEVAL_FILES = FileSet(
    'HumanEval', 'humaneval',
    {'human-eval-v2-20210705.jsonl': ('human-eval-v2-20210705.jsonl', 'HumanEval.jsonl')},
    {'problems': (['human-eval-v2-20210705.jsonl'], 164)},
    read=read_humaneval_jsonl, archive='HumanEval.jsonl.gz',
    url='https://github.com/openai/human-eval/raw/master/data/HumanEval.jsonl.gz',
    layout='HumanEval.jsonl.gz (read unpacked), HumanEval.jsonl or human-eval-v2-20210705.jsonl')


def _add_fileset_args(fileset, parser):
    parser.add_argument(
        '--source', required=True, metavar='PATH_OR_URL',
        help=f'the official {fileset.archive} (a local path, or an http(s) URL to download it '
             f'from, e.g. {fileset.url}), or a local zip, tar or folder holding its files: '
             f'{fileset.layout}, at any depth. Every file must be there with the official number '
             'of rows, or nothing is written. Nothing is downloaded unless a URL is given here.')


def prepare_fileset(fileset, args, root):
    """Copy one benchmark's files into ``<root>/<dest>``, read them back and count their rows."""
    dest = root / fileset.dest
    with _opened(args, f'a {fileset.archive}, a folder of its files, or an http(s) URL') as source:
        plan = fileset.locate(source)
        counts = {}
        _install(source, plan, dest, verify=lambda tmp: counts.update(fileset.verify(tmp, plan, source)))
    shown = ', '.join(f'{label} {n:,}' for label, n in counts.items())
    files = f'{len(plan)} files' if len(plan) > 1 else '1 file'
    print(f'prepared {fileset.title}: {files} (rows: {shown}) in {dest}')


# --------------------------------------------------------------------------------------------

# benchmark name -> (one-line description, add_arguments(parser), prepare(args, data_root))
PREPARERS = {
    'ceval': ('C-Eval: 52 subjects x dev/val/test CSVs into <data-root>/ceval/formal_ceval',
              _add_ceval_args, prepare_ceval),
}
for _name, _fileset, _desc in (
        ('cmmlu', CMMLU_FILES, 'CMMLU: 67 subjects x dev/test CSVs into <data-root>/cmmlu'),
        ('mmlu', MMLU_FILES, 'MMLU: 57 subjects x dev/val/test CSVs into <data-root>/mmlu'),
        ('gsm8k', GSM8K_FILES, 'GSM8K: train.jsonl and test.jsonl into <data-root>/gsm8k'),
        ('humaneval', HUMANEVAL_FILES,
         'HumanEval: 164 problems into <data-root>/humaneval/human-eval-v2-20210705.jsonl')):
    PREPARERS[_name] = (_desc, functools.partial(_add_fileset_args, _fileset),
                        functools.partial(prepare_fileset, _fileset))


def build_parser():
    parser = argparse.ArgumentParser(
        prog='prepare_data.py',
        description='Put a benchmark\'s official files where evalkit reads them, under the data '
                    'root. The destination folder is written atomically: files are copied into a '
                    'temporary folder beside it, which then replaces it, so an interrupted run '
                    'never leaves a half-filled folder. An existing destination folder is '
                    'replaced. Errors are printed on one line and exit with status 2.',
        epilog='example: python tools/prepare_data.py ceval --source ~/Downloads/ceval-exam.zip')
    sub = parser.add_subparsers(dest='benchmark', metavar='BENCHMARK', required=True,
                                help='the benchmark to prepare; one of: ' + ', '.join(PREPARERS))
    for name, (desc, add_args, _) in PREPARERS.items():
        p = sub.add_parser(name, help=desc, description=desc)
        add_args(p)
        p.add_argument('--data-root', metavar='DIR', default=None,
                       help=f'the data root to write into (default: ${DATA_ROOT_ENV}, else ./data)')
    return parser


def main(argv=None):
    """Run the tool; return the exit status (0 ok, 2 error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a usage error argparse already reported
        return e.code if isinstance(e.code, int) else 2
    _, _, prepare = PREPARERS[args.benchmark]
    return run_tool('prepare_data', lambda: prepare(args, data_root(args.data_root)),
                    interrupted='nothing was changed')


if __name__ == '__main__':
    sys.exit(main())
