# C-Eval: the four official categories, the hard subset and the overall average of 52 subjects.
from evalkit.datasets.ceval import ceval_summary_groups

summarizer = dict(summary_groups=ceval_summary_groups())
