"""Rows filed by (bucket, category, H3 cell), found again through a disk of cells.

A bucket is an H3 resolution for offers and a radius class for needs (see index.py). Rows
sit in plain lists: most cells hold a handful, and a list costs 8 bytes a row.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class CellIndex:
    """(bucket, category) -> cell -> rows."""

    def __init__(self) -> None:
        self._cells: dict[tuple[int, int], dict[int, list[int]]] = {}

    def add(self, bucket: int, category: int, cell: int, row: int) -> None:
        """File `row` under the bucket, category and cell."""
        self._cells.setdefault((bucket, category), {}).setdefault(cell, []).append(row)

    def add_many(
        self, buckets: np.ndarray, categories: np.ndarray, cells: np.ndarray, rows: np.ndarray
    ) -> None:
        """`add` for many rows at once (a restored index): sorted, then one list per cell."""
        order = np.lexsort((rows, cells, categories, buckets))
        b, c, cell, r = buckets[order], categories[order], cells[order], rows[order]
        starts = np.flatnonzero(
            np.concatenate(
                ([True], (b[1:] != b[:-1]) | (c[1:] != c[:-1]) | (cell[1:] != cell[:-1]))
            )
        )
        ends = [*starts[1:].tolist(), len(r)]
        taken = r.tolist()
        for start, end, bucket, category, where in zip(
            starts.tolist(),
            ends,
            b[starts].tolist(),
            c[starts].tolist(),
            cell[starts].tolist(),
            strict=True,
        ):
            self._cells.setdefault((bucket, category), {}).setdefault(where, []).extend(
                taken[start:end]
            )

    def remove(self, bucket: int, category: int, cell: int, row: int) -> None:
        """Take `row` out again (a no-op when it is not there)."""
        by_cell = self._cells.get((bucket, category))
        rows = by_cell.get(cell) if by_cell else None
        if by_cell is None or not rows or row not in rows:
            return
        rows.remove(row)
        if not rows:
            del by_cell[cell]
            if not by_cell:
                del self._cells[(bucket, category)]

    def has(self, bucket: int, categories: Iterable[int]) -> bool:
        """Whether any row is filed under the bucket for one of `categories`."""
        return any((bucket, category) in self._cells for category in categories)

    def collect(self, bucket: int, category: int, cells: set[int], out: list[int]) -> None:
        """Append to `out` the rows filed under the bucket and category in any of `cells`."""
        by_cell = self._cells.get((bucket, category))
        if not by_cell:
            return
        # dict_keys & set walks the smaller of the two.
        for cell in by_cell.keys() & cells:
            out.extend(by_cell[cell])
