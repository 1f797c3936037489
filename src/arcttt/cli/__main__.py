"""`python -m arcttt.cli ...` is the `arcttt` command."""

import sys

from .main import main

sys.exit(main())
