"""`boucle-router`: the Python router under gunicorn (BIND, default 127.0.0.1:8000).

Behind Caddy it answers /health for the whole exchange and is the fallback proxy.
"""

from __future__ import annotations

from services.router import create_app
from services.serving import serve
from services.stack import Ports


def main() -> None:
    """Serve the router until stopped."""
    serve("router", create_app, Ports().public)


if __name__ == "__main__":
    main()
