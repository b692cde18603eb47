import sys
from pathlib import Path

# The numpy reference implementations next to the tests (the package under
# test is the installed hlsk, imported with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))
