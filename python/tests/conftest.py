import os
import sys

# The tests import their own modules as Python layers (`module: 'pylayers'`).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
