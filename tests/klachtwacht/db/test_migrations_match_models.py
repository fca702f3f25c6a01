"""The migrations build exactly the schema the models describe: no table or column only on one side."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from klachtwacht.db.engine import make_engine
from klachtwacht.db.migrate import upgrade
from klachtwacht.db.models import Base
from klachtwacht.reconcile import models as reconcile_models


def test_the_migrated_schema_has_every_table_and_column_of_the_models(tmp_path: Path) -> None:
    assert reconcile_models.ReconcileRun.__table__.metadata is Base.metadata  # its table is compared too
    engine = make_engine(f"sqlite:///{tmp_path / 'kw.db'}")
    try:
        upgrade(engine)
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    structural = [d for d in diff if isinstance(d, tuple) and d[0] in ("add_table", "remove_table", "add_column", "remove_column")]
    assert structural == []
