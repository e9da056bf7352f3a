"""``python -m hftws``: the command line (see ``hftws --help``)."""

from __future__ import annotations

import sys

from hftws.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
