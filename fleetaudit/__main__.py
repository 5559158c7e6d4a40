"""``python -m fleetaudit`` runs the command-line interface."""

from fleetaudit.cli import main

main()
