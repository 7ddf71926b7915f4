"""`make admin EMAIL=… PASSWORD=…`: create an admin account, or promote an existing member."""

from __future__ import annotations

import argparse
import logging
import sys

from listings.accounts import AccountService
from shared.db import service_database
from shared.settings import Settings


def main(argv: list[str] | None = None) -> int:
    """Create or promote the admin; prints what it did."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if "@" not in args.email:
        print(f"error: {args.email!r} is not an e-mail address", file=sys.stderr)
        return 2
    if len(args.password) < 10:
        print("error: the password needs at least 10 characters", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    _, sessions = service_database(settings.listings_database_url, "listings")
    outcome = AccountService(sessions, settings.topics.organisations).make_admin(
        args.email, args.password
    )
    print(f"{args.email}: admin account {outcome}. Log in at {settings.public_base_url}/login")
    return 0


if __name__ == "__main__":
    sys.exit(main())
