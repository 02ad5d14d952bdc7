"""Subcommands of the ``dreamtalk`` CLI, one module each (see ``cli.py``)."""
