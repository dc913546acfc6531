from .local import LocalRunner
from .slurm import SlurmRunner, SlurmSequentialRunner

__all__ = ['LocalRunner', 'SlurmRunner', 'SlurmSequentialRunner']
