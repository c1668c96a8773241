#!/usr/bin/env python3
"""G-set node: the broadcast node in g-set mode."""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
os.execv(sys.executable, [sys.executable, os.path.join(here, "broadcast.py"), "gset"])
