"""``python -m geo_app.cli``."""

import sys

from geo_app.cli import main

sys.exit(main())
