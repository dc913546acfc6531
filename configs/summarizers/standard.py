# C-Eval, CMMLU and MMLU groups together; GSM8K and HumanEval are single datasets with rows of their own.
from evalkit.datasets.ceval import ceval_summary_groups
from evalkit.datasets.cmmlu import cmmlu_summary_groups
from evalkit.datasets.mmlu import mmlu_summary_groups

summarizer = dict(summary_groups=ceval_summary_groups() + cmmlu_summary_groups()
                  + mmlu_summary_groups('test') + mmlu_summary_groups('val'))
