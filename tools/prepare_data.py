#!/usr/bin/env python
"""Put a benchmark's official files where evalkit reads them.

    python tools/prepare_data.py ceval --source ceval-exam.zip [--data-root DIR]

Only C-Eval is implemented. Each benchmark is one entry in ``PREPARERS``: a function that adds its
options to an argparse sub-parser and a function that does the work, so more can be added later.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from evalkit.datasets.ceval_subjects import CEVAL_SPLITS, CEVAL_SUBJECTS  # noqa: E402
from evalkit.utils.errors import EvalkitError  # noqa: E402
from evalkit.utils.paths import DATA_ROOT_ENV, data_root  # noqa: E402

DOWNLOAD_TIMEOUT_S = 60
# What reading a damaged or unsupported zip member can raise (encrypted members: RuntimeError).
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
CEVAL_OFFICIAL_URL = ('https://huggingface.co/datasets/ceval/ceval-exam/resolve/main/'
                      'ceval-exam.zip')


def _is_url(source):
    return re.match(r'^https?://', source, re.IGNORECASE) is not None


def _download(url, folder):
    """Fetch ``url`` into ``folder``; return the file's path. Failures become EvalkitError."""
    target = Path(folder) / 'download.zip'
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


class _Source:
    """A zip file or a folder: its files, named by relative posix paths, and a way to open them."""

    def __init__(self, path, label=None):
        self.path = Path(path)
        self.label = label or str(self.path)  # how messages name it (the URL, for a download)
        self.zip = None
        if self.path.is_dir():
            return
        if not self.path.is_file():
            raise EvalkitError(f'source {self.path} does not exist '
                               '(give a ceval-exam.zip, a folder of its CSVs, or an http(s) URL)')
        try:
            self.zip = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile:
            raise EvalkitError(f'source {self.label} is not a valid zip file') from None
        except OSError as e:
            raise EvalkitError(f'cannot read source {self.label}: {e}') from None

    def close(self):
        if self.zip is not None:
            self.zip.close()

    def entries(self):
        """Yield relative posix paths of the regular files in the source."""
        if self.zip is not None:
            for info in self.zip.infolist():
                if not info.is_dir():
                    yield info.filename.replace('\\', '/')
        else:
            for dirpath, dirnames, filenames in os.walk(self.path):
                dirnames.sort()
                rel = Path(dirpath).relative_to(self.path)
                for name in sorted(filenames):
                    yield (rel / name).as_posix()

    def open(self, rel):
        if self.zip is not None:
            return self.zip.open(rel)
        return open(self.path / rel, 'rb')


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


# --------------------------------------------------------------------------------------------
# C-Eval

CEVAL_DEST = Path('ceval') / 'formal_ceval'


def _ceval_expected():
    """Each of the 156 C-Eval file names, ``<subject>_<split>.csv``, mapped to its split."""
    return {f'{subject}_{split}.csv': split
            for split in CEVAL_SPLITS for subject in CEVAL_SUBJECTS}


def _locate_ceval(source):
    """Map each ``<split>/<subject>_<split>.csv`` to its entry in the source.

    The dev/, val/ and test/ folders may sit at any depth (the official zip may wrap them in one
    top-level folder; a data root holding ceval/formal_ceval works too). The folder that holds
    them is the "base"; the base holding the most C-Eval files is used, so files of the same name
    from other benchmarks elsewhere in the source (MMLU has some) do not get in the way.
    """
    expected = _ceval_expected()
    bases = {}  # base folder -> {relative path: entry}
    for entry in source.entries():
        p = PurePosixPath(entry)
        # Hidden entries (.git, macOS '._' files, leftovers of an interrupted run) never count.
        if p.name not in expected or p.parent.name != expected[p.name] \
                or any(part.startswith('.') for part in p.parts) or '__MACOSX' in p.parts:
            continue
        bases.setdefault(p.parent.parent.as_posix(), {})[f'{p.parent.name}/{p.name}'] = entry
    want = [f'{split}/{name}' for name, split in expected.items()]
    best = max(bases.values(), key=len, default={})
    complete = [b for b, files in bases.items() if len(files) == len(want)]
    if len(complete) > 1:
        shown = ', '.join(b if b != '.' else '(top level)' for b in sorted(complete)[:3])
        raise EvalkitError(f'source {source.label} holds {len(complete)} complete copies of '
                           f'C-Eval ({shown}); point --source at one of them')
    missing = [rel for rel in want if rel not in best]
    if missing:
        shown = ', '.join(missing[:3]) + (', ...' if len(missing) > 3 else '')
        hint = ' (is this the C-Eval ceval-exam.zip?)' if not best else ''
        raise EvalkitError(f'source {source.label} lacks {len(missing)} of {len(want)} C-Eval '
                           f'files: {shown}{hint}')
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
    with tempfile.TemporaryDirectory(prefix='evalkit-download-') as dl:
        src_path = _download(args.source, dl) if _is_url(args.source) \
            else Path(args.source).expanduser()
        source = _Source(src_path, label=args.source)
        try:
            try:
                plan = _locate_ceval(source)
            except ZIP_READ_ERRORS as e:
                raise EvalkitError(f'cannot read {args.source}: {e}') from None

            def fill(tmp):
                for split in CEVAL_SPLITS:
                    (tmp / split).mkdir()
                for rel, entry in sorted(plan.items()):
                    with source.open(entry) as fin, open(tmp / rel, 'wb') as fout:
                        shutil.copyfileobj(fin, fout, 1 << 20)

            try:
                _replace_folder(dest, fill)
            except ZIP_READ_ERRORS as e:
                raise EvalkitError(f'cannot read {args.source}: {e}; {dest} was left as it was') \
                    from None
            except OSError as e:
                raise EvalkitError(f'could not write {dest}: {e}') from None
        finally:
            source.close()
    print(f'prepared C-Eval: {len(plan)} files ({len(CEVAL_SUBJECTS)} subjects x '
          f'{len(CEVAL_SPLITS)} splits) in {dest}')


# --------------------------------------------------------------------------------------------

# benchmark name -> (one-line description, add_arguments(parser), prepare(args, data_root))
PREPARERS = {
    'ceval': ('C-Eval: 52 subjects x dev/val/test CSVs into <data-root>/ceval/formal_ceval',
              _add_ceval_args, prepare_ceval),
}


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
    try:
        prepare(args, data_root(args.data_root))
    except EvalkitError as e:
        print(f'prepare_data: error: {e}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('prepare_data: interrupted; nothing was changed', file=sys.stderr)
        return 130
    except OSError as e:
        print(f'prepare_data: error: {e}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
