"""Storage: typed models, engines and migrations."""

from klachtwacht.db.engine import check_connection, make_engine, make_sessionmaker
from klachtwacht.db.migrate import upgrade

__all__ = ["make_engine", "make_sessionmaker", "check_connection", "upgrade"]
