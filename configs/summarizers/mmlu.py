# MMLU: four categories, the plain and question-weighted averages of 57 subjects (test), and the
# same plain averages on val.
from evalkit.datasets.mmlu import mmlu_summary_groups

summarizer = dict(summary_groups=mmlu_summary_groups('test') + mmlu_summary_groups('val'))
