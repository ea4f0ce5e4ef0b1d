"""Memory receipts under a reply: "Used N memories", expandable, with feedback per memory.

Painted by the transcript's delegate (no widgets per row, so long conversations stay fast); this
module holds the geometry, so painting and clicking agree on where everything is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter

from app import theme
from memory.answering.receipts import Receipt
from memory.store import sources

ROW = 22
GAP = 6  # between the reply text and its receipts
HELPFUL, NOT_RELEVANT = "Helpful", "Not relevant"
CITE_SCHEME = "memoir-cite"
_CITATION = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")


@dataclass(frozen=True)
class Hit:
    action: str  # "toggle", "open" or "feedback"
    position: int = 0
    value: int = 0


MARKS = {True: "used", False: "not used", None: "not sure"}


def summary(receipts: list[Receipt]) -> str:
    used = sum(1 for r in receipts if r.used)
    unsure = sum(1 for r in receipts if r.used is None)
    noun = "memory" if len(receipts) == 1 else "memories"
    tail = f" · {used} used" + (f" · {unsure} not sure" if unsure else "")
    return f"Shown {len(receipts)} {noun}{tail}"


def row_text(receipt: Receipt) -> str:
    """One receipt row: number, decision, whose words, the text."""
    gone = "  (forgotten)" if receipt.item_id is None else ""
    when = f", {receipt.occurred_at[:10]}" if receipt.occurred_at else ""
    return (
        f"[{receipt.position}] {MARKS[receipt.used]} · {sources.label(receipt.source)}{when} · "
        f"{receipt.text}{gone}"
    )


def height(receipts: list[Receipt], expanded: bool) -> int:
    if not receipts:
        return 0
    return GAP + ROW * (1 + (len(receipts) if expanded else 0))


def link_citations(markdown: str, shown: int) -> str:
    """Turn ``[2]`` (and ``[1, 3]``) into links to the receipts, for numbers that were shown."""

    def linked(match: re.Match[str]) -> str:
        numbers = [int(n) for n in match.group(1).split(",")]
        if not all(1 <= n <= shown for n in numbers):
            return match.group(0)
        return "".join(f"[\\[{n}\\]]({CITE_SCHEME}:{n})" for n in numbers)

    return _CITATION.sub(linked, markdown)


class ReceiptLayout:
    """Where the header line and each memory row with its two buttons are, inside ``area``."""

    def __init__(self, area: QRect, receipts: list[Receipt], expanded: bool, font: QFont) -> None:
        self.area = area
        self.receipts = receipts
        self.expanded = expanded
        self.font = font
        self.metrics = QFontMetrics(font)

    def header(self) -> QRect:
        return QRect(self.area.left(), self.area.top() + GAP, self.area.width(), ROW)

    def row(self, n: int) -> QRect:
        return QRect(self.area.left(), self.area.top() + GAP + ROW * (n + 1), self.area.width(), ROW)

    def buttons(self, n: int) -> tuple[QRect, QRect]:
        row = self.row(n)
        bad_w = self.metrics.horizontalAdvance(NOT_RELEVANT) + 12
        good_w = self.metrics.horizontalAdvance(HELPFUL) + 12
        bad = QRect(row.right() - bad_w, row.top() + 2, bad_w, ROW - 4)
        good = QRect(bad.left() - 6 - good_w, row.top() + 2, good_w, ROW - 4)
        return good, bad

    def hit(self, point: QPoint) -> Hit | None:
        if self.header().contains(point):
            return Hit("toggle")
        if not self.expanded:
            return None
        for n, receipt in enumerate(self.receipts):
            if not self.row(n).contains(point):
                continue
            good, bad = self.buttons(n)
            if good.contains(point):
                return Hit("feedback", receipt.position, 0 if receipt.feedback == 1 else 1)
            if bad.contains(point):
                return Hit("feedback", receipt.position, 0 if receipt.feedback == -1 else -1)
            return Hit("open", receipt.position)
        return None

    def paint(self, painter: QPainter) -> None:
        arrow = "▾" if self.expanded else "▸"
        header = QFont(self.font)
        header.setBold(True)
        painter.setFont(header)
        painter.setPen(QColor(theme.current().link))
        painter.drawText(self.header(), Qt.AlignmentFlag.AlignVCenter, f"{arrow} {summary(self.receipts)}")
        if not self.expanded:
            return
        painter.setFont(self.font)
        for n, receipt in enumerate(self.receipts):
            self._paint_row(painter, n, receipt)

    def _paint_row(self, painter: QPainter, n: int, receipt: Receipt) -> None:
        row = self.row(n)
        good, bad = self.buttons(n)
        text_rect = QRect(row.left() + 14, row.top(), good.left() - row.left() - 20, ROW)
        label = self.metrics.elidedText(row_text(receipt), Qt.TextElideMode.ElideRight, text_rect.width())
        colours = theme.current()
        colour = {True: colours.good, False: colours.text, None: colours.muted}[receipt.used]
        painter.setPen(QColor(colour))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, label)
        for rect, text, chosen, colour in (
            (good, HELPFUL, receipt.feedback == 1, colours.good),
            (bad, NOT_RELEVANT, receipt.feedback == -1, colours.bad),
        ):
            chosen_fill = QColor(colour).darker(300) if colours.dark else QColor(colour).lighter(185)
            painter.setPen(QColor(colour) if chosen else QColor(colours.idle))
            painter.setBrush(chosen_fill if chosen else Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 5, 5)
            painter.setPen(QColor(colour) if chosen else QColor(colours.muted))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
