"""klachtwacht: no complaint in a bestuurder's mailbox gets lost.

The application package holds configuration, storage, the workers, the
register, notices and the command line. The pure parts live beside it in
``ingest``, ``classifiers`` and ``rules``.
"""

__version__ = "0.1.0"
