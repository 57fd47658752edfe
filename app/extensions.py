"""Extension objects, created unbound; ``create_app`` binds them with ``init_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mailman import Mail
from flask_security import Security
from flask_wtf.csrf import CSRFProtect

from app.lazy import Migrate
from app.redis import RedisStore
from models.base import db

babel = Babel()
csrf = CSRFProtect()
mail = Mail()
migrate = Migrate()
security = Security()
redis_store = RedisStore()
# Storage is set per app (REDIS_URL or the embedded server) in create_app; no default limits:
# each sign-in and code-entry endpoint declares its own.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

__all__ = ["babel", "csrf", "db", "limiter", "mail", "migrate", "redis_store", "security"]
