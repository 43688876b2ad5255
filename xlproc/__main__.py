"""``python -m xlproc`` runs the command-line tool."""

from xlproc.cli import main

if __name__ == "__main__":
    main()
