"""The job table's filter, search and sort, done in bulk so 100,000 jobs stay responsive.

``QSortFilterProxyModel`` asks the model for one value per comparison and one verdict per
row, each a call from C++ into Python: sorting 100,000 jobs took 3.4 million calls (about
13 s) and every search keystroke re-filtered and re-sorted the table row by row (0.4 to 9 s;
``tests/bench/bench_history.py``). This proxy keeps, per source row, the casefolded prompt,
which filters accept the job and its sort key; it sorts with one ``list.sort`` and filters
with list comprehensions, so a keystroke over 100,000 jobs costs a few milliseconds.

A filter or search change resets the proxy (the view keeps the selected job, see
``JobsView``); a single job's change moves, shows or hides just its row, as the live
updates need.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt

from ui.job_filters import JobFilter, all_marks, filter_marks
from ui.jobs_model import Column, JobsModel
from ui.row_proxy import RowListProxy

_NO_INDEX = QModelIndex()

__all__ = ["JobFilter", "JobsFilterProxy", "filter_marks"]


class JobsFilterProxy(RowListProxy):
    """Shows the jobs the filter and every search word accept, sorted by the model's keys."""

    def __init__(self, parent: QObject | None = None) -> None:
        """Start with every job shown, unsorted."""
        super().__init__(parent)
        self._filter = JobFilter.ALL
        self._min_rating = 0
        self._words: tuple[str, ...] = ()
        self._sort_column = -1
        self._descending = False
        # Per source row: casefolded prompt, filter bits, rating, sort key (when sorted).
        self._text: list[str] = []
        self._marks: list[int] = []
        self._ratings: list[int] = []
        self._keys: list[Any] = []
        #: Every source row in sort order (the visible ones, ``_rows``, in the same order).
        self._order: list[int] = []
        #: The rows of ``_order`` matching ``_found_words`` (the search, before the filter):
        #: typing a longer word narrows it instead of scanning every job again.
        self._found: list[int] | None = None
        self._found_words: tuple[str, ...] = ()
        self._source: JobsModel | None = None
        #: Only the jobs of this compare set or batch (None: every job).
        self._set_id: str | None = None

    # -- the public API ---------------------------------------------------------------------

    @property
    def job_filter(self) -> JobFilter:
        """The current filter."""
        return self._filter

    def set_filter(self, job_filter: JobFilter) -> None:
        """Show only the jobs ``job_filter`` accepts."""
        if job_filter is self._filter:
            return
        self._filter = job_filter
        self._refilter()

    @property
    def job_set(self) -> str | None:
        """The compare set or batch the list is narrowed to, if any."""
        return self._set_id

    def set_job_set(self, set_id: str | None) -> None:
        """Show only the jobs of one linked set (``None``: every job); other filters still apply."""
        if set_id == self._set_id:
            return
        self._set_id = set_id
        self._refilter()

    @property
    def min_rating(self) -> int:
        """The fewest stars a listed job has (0: rated or not)."""
        return self._min_rating

    def set_min_rating(self, stars: int) -> None:
        """Show only jobs rated ``stars`` or more (0 shows every job)."""
        if stars == self._min_rating:
            return
        self._min_rating = stars
        self._refilter()

    def set_search(self, text: str) -> None:
        """Show only jobs whose prompt contains every word of ``text`` (any case)."""
        words = tuple(text.casefold().split())
        if words == self._words:
            return
        self._words = words
        self._refilter()

    def sortColumn(self) -> int:
        """The column sorted by (-1: source order)."""
        return self._sort_column

    def sortOrder(self) -> Qt.SortOrder:
        """The sort direction."""
        if self._descending:
            return Qt.SortOrder.DescendingOrder
        return Qt.SortOrder.AscendingOrder

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column``'s :meth:`JobsModel.sort_key` (-1: the model's own order)."""
        self.layoutAboutToBeChanged.emit()
        kept = self.persistentIndexList()
        sources = [self._source_row(index.row()) for index in kept]
        self._sort_column = column if self._source is not None else -1
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._keys = self._all_keys()
        self._order = self._sorted(range(len(self._text)))
        self._found = None
        self._rows = self._visible(self._order)
        self._proxy_of = None
        self.changePersistentIndexList(
            kept,
            [self._moved(index, source) for index, source in zip(kept, sources, strict=True)],
        )
        self.layoutChanged.emit()

    # -- the source model -------------------------------------------------------------------

    def setSourceModel(self, model: Any) -> None:
        """Follow ``model`` (a :class:`JobsModel`)."""
        self.beginResetModel()
        old = self.sourceModel()
        if old is not None:
            for signal, slot in self._wiring(old):
                signal.disconnect(slot)
        super().setSourceModel(model)
        self._source = model if isinstance(model, JobsModel) else None
        if model is not None:
            for signal, slot in self._wiring(model):
                signal.connect(slot)
        self._rebuild()
        self.endResetModel()

    def _wiring(self, model: Any) -> list[tuple[Any, Any]]:
        return [
            (model.dataChanged, self._on_data_changed),
            (model.rowsInserted, self._on_rows_inserted),
            (model.rowsAboutToBeRemoved, self._on_rows_about_to_be_removed),
            (model.rowsRemoved, self._on_rows_removed),
            (model.modelAboutToBeReset, self.beginResetModel),
            (model.modelReset, self._on_reset),
            (model.layoutAboutToBeChanged, self._on_layout_about_to_change),
            (model.layoutChanged, self._on_reset),
            (model.headerDataChanged, self.headerDataChanged),
        ]

    def _on_layout_about_to_change(self, *_args: Any) -> None:
        self.beginResetModel()

    def _on_reset(self, *_args: Any) -> None:
        self._rebuild()
        self.endResetModel()

    def _rebuild(self) -> None:
        """Recompute everything from the source model (no signals)."""
        jobs = self._source.jobs() if self._source is not None else []
        self._text = [job.params.prompt.casefold() for job in jobs]
        self._marks = all_marks(jobs)
        self._ratings = [job.rating for job in jobs]
        self._keys = self._all_keys()
        self._order = self._sorted(range(len(jobs)))
        self._found = None
        self._rows = self._visible(self._order)
        self._proxy_of = None

    # -- bulk work --------------------------------------------------------------------------

    def _all_keys(self) -> list[Any]:
        """The sort key of every source row (empty when unsorted)."""
        model, column = self._source, self._sort_column
        if model is None or not 0 <= column < len(Column):
            return []
        key = model.sort_key(Column(column))
        return [key(job) for job in model.jobs()]

    def _key_of(self, row: int) -> Any:
        """The sort key of one source row (the model's, as for every row)."""
        model, column = self._source, self._sort_column
        assert model is not None
        return model.sort_key(Column(column))(model.job_at(row))

    def _sorted(self, rows: range | list[int]) -> list[int]:
        """Source rows in display order (ties keep source order, either direction)."""
        if self._sort_column < 0 or not self._keys:
            return list(rows)
        keys = self._keys
        ordered = sorted(rows, key=keys.__getitem__, reverse=self._descending)
        return ordered

    def _matching(self) -> list[int]:
        """The rows of ``_order`` whose prompt contains every search word (cached)."""
        words = self._words
        if not words:
            return self._order
        found = self._found
        if found is not None and self._found_words == words:
            return found
        base = self._order
        if found is not None and all(any(old in new for new in words) for old in self._found_words):
            base = found  # every earlier word is inside a new one: matches can only shrink
        text = self._text
        rows = base
        for word in words:
            rows = [row for row in rows if word in text[row]]
        self._found, self._found_words = rows, words
        return rows

    def _visible(self, order: list[int]) -> list[int]:
        """The rows of ``order`` (always ``_order``) that the search and the filter accept."""
        rows = self._matching() if order is self._order else order
        if self._set_id is not None and self._source is not None:
            jobs, wanted = self._source.jobs(), self._set_id
            rows = [row for row in rows if jobs[row].set_id == wanted]
        mark = self._filter.mark
        if mark:
            marks = self._marks
            rows = [row for row in rows if marks[row] & mark]
        least = self._min_rating
        if least:
            ratings = self._ratings
            return [row for row in rows if ratings[row] >= least]
        return list(rows)  # a copy: _rows changes row by row, the caches must not

    def _refind(self, row: int) -> None:
        """Keep the search cache right after one row's text or place changed."""
        found = self._found
        if found is None or not self._found_words:
            return
        if row in found:
            found.remove(row)
        text = self._text[row]
        if all(word in text for word in self._found_words):
            found.insert(self._position(found, row), row)

    def _refilter(self) -> None:
        rows = self._visible(self._order)
        if rows == self._rows:
            return
        self.beginResetModel()
        self._rows = rows
        self._proxy_of = None
        self.endResetModel()

    # -- one job at a time ------------------------------------------------------------------

    def _accepts(self, row: int) -> bool:
        mark = self._filter.mark
        if mark and not self._marks[row] & mark:
            return False
        if self._ratings[row] < self._min_rating:
            return False
        source, wanted = self._source, self._set_id
        if wanted is not None and source is not None and source.job_at(row).set_id != wanted:
            return False
        text = self._text[row]
        return all(word in text for word in self._words)

    def _before(self, a: int, b: int) -> bool:
        """Whether source row ``a`` comes before ``b`` in display order."""
        if self._sort_column < 0 or not self._keys:
            return a < b
        key_a, key_b = self._keys[a], self._keys[b]
        if key_a == key_b:
            return a < b
        try:
            return bool(key_b < key_a) if self._descending else bool(key_a < key_b)
        except TypeError:  # mixed types (a missing value): keep source order
            return a < b

    def _position(self, rows: list[int], row: int) -> int:
        """Where ``row`` belongs in the ordered ``rows`` (which do not contain it)."""
        low, high = 0, len(rows)
        while low < high:
            middle = (low + high) // 2
            if self._before(rows[middle], row):
                low = middle + 1
            else:
                high = middle
        return low

    def _known_rows(self) -> int:
        return len(self._text)

    def _on_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: Any = ()
    ) -> None:
        if self._source is None or not top_left.isValid():
            return
        first, last = top_left.row(), bottom_right.row()
        left, right = top_left.column(), bottom_right.column()
        # A repaint of some cells (the one-second tick, a thumbnail) changes no job: the
        # filters and the search stay right, and the order only when its column is touched.
        looks_only = bool(roles) and not left <= self._sort_column <= right
        for row in range(first, last + 1):
            if not looks_only:
                self._update_row(row, full=not roles)
        mapping = self._proxy_map()
        for row in range(first, last + 1):
            proxy_row = mapping[row]
            if proxy_row >= 0:
                self.dataChanged.emit(
                    self.index(proxy_row, left), self.index(proxy_row, right), list(roles or ())
                )

    def _update_row(self, row: int, *, full: bool) -> None:
        """Re-read one source row; show, hide or move its proxy row to match."""
        assert self._source is not None
        job = self._source.job_at(row)
        moved = False
        if full:
            text = job.params.prompt.casefold()
            moved = text != self._text[row]
            self._text[row] = text
            self._marks[row] = filter_marks(job)
            self._ratings[row] = job.rating
        if self._sort_column >= 0 and self._keys:
            key = self._key_of(row)
            if key != self._keys[row]:
                self._order.remove(row)
                self._keys[row] = key
                self._order.insert(self._position(self._order, row), row)
                moved = True
        if moved:
            self._refind(row)
        was = self._proxy_map()[row]
        shown = self._accepts(row)
        if was < 0 and not shown:
            return
        if was >= 0 and not shown:
            self.beginRemoveRows(_NO_INDEX, was, was)
            del self._rows[was]
            self._proxy_of = None
            self.endRemoveRows()
            return
        if was < 0:
            where = self._position(self._rows, row)
            self.beginInsertRows(_NO_INDEX, where, where)
            self._rows.insert(where, row)
            self._proxy_of = None
            self.endInsertRows()
            return
        rest = self._rows[:was] + self._rows[was + 1 :]
        where = self._position(rest, row)
        if where == was:
            return
        # Qt counts the destination before the move: one further when moving down.
        if not self.beginMoveRows(
            _NO_INDEX, was, was, _NO_INDEX, where + 1 if where > was else where
        ):
            return
        rest.insert(where, row)
        self._rows = rest
        self._proxy_of = None
        self.endMoveRows()

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid() or self._source is None:
            return
        if first != len(self._text) or last - first > 500:
            self.beginResetModel()  # not an append, or a big batch: start over
            self._rebuild()
            self.endResetModel()
            return
        for row in range(first, last + 1):
            job = self._source.job_at(row)
            self._text.append(job.params.prompt.casefold())
            self._marks.append(filter_marks(job))
            self._ratings.append(job.rating)
            if self._sort_column >= 0 and self._keys:
                self._keys.append(self._key_of(row))
            self._order.insert(self._position(self._order, row), row)
            self._refind(row)
            self._proxy_of = None
            if self._accepts(row):
                where = self._position(self._rows, row)
                self.beginInsertRows(_NO_INDEX, where, where)
                self._rows.insert(where, row)
                self._proxy_of = None
                self.endInsertRows()

    def _on_rows_about_to_be_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        mapping = self._proxy_map()
        for proxy_row in sorted((mapping[row] for row in range(first, last + 1)), reverse=True):
            if proxy_row < 0:
                continue
            self.beginRemoveRows(_NO_INDEX, proxy_row, proxy_row)
            del self._rows[proxy_row]
            self._proxy_of = None
            self.endRemoveRows()

    def _on_rows_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        count = last - first + 1
        del self._text[first : last + 1]
        del self._marks[first : last + 1]
        del self._ratings[first : last + 1]
        if self._keys:
            del self._keys[first : last + 1]

        def shift(rows: list[int]) -> list[int]:
            return [row - count if row > last else row for row in rows if not first <= row <= last]

        self._order = shift(self._order)
        self._rows = shift(self._rows)
        self._found = None
        self._proxy_of = None
