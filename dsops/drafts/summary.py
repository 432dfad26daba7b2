"""What a draft operation changed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ChangeSummary:
    """Counts and bytes of one add / remove / sync call (or of a whole version)."""

    added: int = 0
    modified: int = 0
    removed: int = 0
    unchanged: int = 0
    added_bytes: int = 0
    modified_bytes: int = 0
    removed_bytes: int = 0
    uploaded_bytes: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.modified or self.removed)

    @property
    def files_changed(self) -> int:
        return self.added + self.modified + self.removed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __getitem__(self, key: str) -> int:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return int(getattr(self, key))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChangeSummary:
        return cls(**{k: int(v) for k, v in data.items() if k in cls.__dataclass_fields__})

    def __add__(self, other: ChangeSummary) -> ChangeSummary:
        return ChangeSummary(**{k: getattr(self, k) + getattr(other, k) for k in asdict(self)})

    def __str__(self) -> str:
        return (
            f"{self.added} added ({self.added_bytes} B), {self.modified} modified "
            f"({self.modified_bytes} B), {self.removed} removed ({self.removed_bytes} B), "
            f"{self.unchanged} unchanged; {self.uploaded_bytes} B uploaded"
        )
