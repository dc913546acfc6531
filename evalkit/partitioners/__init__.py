from .naive import NaivePartitioner
from .size import SizePartitioner

__all__ = ['NaivePartitioner', 'SizePartitioner']
