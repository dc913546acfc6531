from .default import DefaultSummarizer

__all__ = ['DefaultSummarizer']
