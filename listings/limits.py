"""Rate limits on logins and registrations (per client address; in memory per process)."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Initialised per app in create_app; holds no connection, only the limits' configuration.
limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", default_limits=[])
