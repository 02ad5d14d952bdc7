"""``python -m dreamtalk.cli`` (the same as ``python -m dreamtalk``)."""
import sys

from . import main

sys.exit(main())
