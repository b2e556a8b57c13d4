#!/usr/bin/env python
"""Django's command-line utility for ReformFlow."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # A checkout's own commands (check, makemigrations, shell …) run as development when nothing
    # is configured; a deployment sets SECRET_KEY (or DEBUG) and keeps the strict settings. The web
    # server's entry points (config/wsgi.py, asgi.py) never default.
    if "SECRET_KEY" not in os.environ and "DEBUG" not in os.environ:
        os.environ["DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
