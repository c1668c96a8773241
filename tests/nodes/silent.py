#!/usr/bin/env python3
"""Broken node: reads everything, never answers (not even init)."""
import sys

for _ in sys.stdin:
    pass
