"""The whole schema: importing this module registers every table module on `Base.metadata`."""

from __future__ import annotations

import importlib

from amparo.store.tables import Base

# Table modules of other rooms; each registers its tables on the shared Base.
_TABLE_MODULES = (
    "amparo.store.tables_events",
    "amparo.store.tables_review",
    "amparo.store.tables_audit",
    "amparo.store.tables_limits",
    "amparo.store.tables_video",
    "amparo.store.tables_exchanges",
    "amparo.store.tables_protect",
    "amparo.store.tables_video_gen",
)

for _name in _TABLE_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as e:  # a room not built yet
        if e.name != _name:
            raise

metadata = Base.metadata
