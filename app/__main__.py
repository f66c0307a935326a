"""`python -m app` is `digestbot`."""

from app.cli import main

main()
