"""The frozen app's entry point (PyInstaller runs a script, not a console_scripts entry)."""

import multiprocessing
import sys

from app.main import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the search index runs in a child process of the app
    sys.exit(main())
