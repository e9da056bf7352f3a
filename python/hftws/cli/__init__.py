"""The ``hftws`` command line (``python -m hftws`` or the ``hftws`` console script).

``app`` parses arguments and maps failures to exit codes; ``demo``, ``watch`` and ``capture``
(record/replay) are the commands; ``pipeline`` is the book pipeline they share; ``view`` draws
it; ``record`` is the recording file format; ``config`` reads the TOML file and environment.
"""

from hftws.cli.app import main

__all__ = ["main"]
