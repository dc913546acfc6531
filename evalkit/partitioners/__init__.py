from .naive import NaivePartitioner
from .size import SizePartitioner
from .subjective import SubjectiveNaivePartitioner

__all__ = ['NaivePartitioner', 'SizePartitioner', 'SubjectiveNaivePartitioner']
