# C-Eval val in ppl mode, scored on all samples and on each contamination subset of an annotation
# file (from: python tools/contamination.py overlap --corpus ... --dataset ceval_ppl --out FILE).
# The file: $EVALKIT_CEVAL_ANNOTATIONS, else ceval/ceval_annotations.json under the data root.
import os

from evalkit.datasets.ceval import ceval_dataset_cfgs

ceval_datasets = ceval_dataset_cfgs(
    mode='ppl', shots=5, split='val',
    annotations=os.environ.get('EVALKIT_CEVAL_ANNOTATIONS') or 'ceval/ceval_annotations.json')
