"""Helpers for the migrations that moved models out of the covenants app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def move_content_types(models: list[str], to_app: str, from_app: str = "covenants") -> Callable[[Any, Any], None]:
    """A RunPython step giving the moved models' content types their new app label, so the
    permissions granted on them and the admin's change log keep pointing at them."""

    def move(apps: Any, schema_editor: Any) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for model in models:
            if content_type.objects.using(db).filter(app_label=to_app, model=model).exists():
                continue  # already there (made by a run of migrate that stopped half-way)
            content_type.objects.using(db).filter(app_label=from_app, model=model).update(app_label=to_app)

    return move
