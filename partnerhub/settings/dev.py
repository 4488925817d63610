"""Local development: `make run`. Debug on, console email, embedded SQLite and broker."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Local receivers (e.g. on 127.0.0.1) are fine while developing; production refuses them.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", True)
