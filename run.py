#!/usr/bin/env python
"""Entry point: python run.py --help"""
import sys

from evalkit.cli import main

if __name__ == '__main__':
    sys.exit(main())
