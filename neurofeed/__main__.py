import sys

from neurofeed.cli import main

sys.exit(main())
