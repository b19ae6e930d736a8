"""Puts the generated package (env MOLTZAP_PY_PKG, default ../../generated/python) on sys.path."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.abspath(os.environ.get("MOLTZAP_PY_PKG", os.path.join(HERE, "..", "..", "generated", "python")))
if PKG not in sys.path:
    sys.path.insert(0, PKG)
