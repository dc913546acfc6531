from .local import LocalRunner

__all__ = ['LocalRunner']
