# CMMLU: five categories (a subject may count in two) and the overall average of 67 subjects.
from evalkit.datasets.cmmlu import cmmlu_summary_groups

summarizer = dict(summary_groups=cmmlu_summary_groups())
