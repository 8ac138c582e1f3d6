"""python scripts/fault_matrix [FILTER] [--work DIR] [--keep]: see main.py."""
import sys
from pathlib import Path

if not __package__:  # run as a folder: make 'fault_matrix' importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fault_matrix.main import main

sys.exit(main())
