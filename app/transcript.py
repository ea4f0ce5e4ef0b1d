"""The chat transcript: a list view whose delegate paints each message as a Markdown bubble."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QAction,
    QColor,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from app import receipts as receipt_rows
from app import theme
from app.models import ObjectRole, ReceiptsRole
from memory.answering.receipts import Receipt
from memory.store.database import Message

Index = QModelIndex | QPersistentModelIndex
MARGIN = 12  # around each bubble
PADDING = 10  # inside each bubble
HEADER = 20  # the "You / model · status" line
MAX_BUBBLE = 820
SHOWN_CHARS = 50_000  # of one message; the rest is stored and copied, just not laid out
STATUS_NOTES = {
    "stopped": "stopped",
    "interrupted": "interrupted — the app closed while this was written",
    "cut off": "cut off — the model server stopped answering",
    "error": "failed",
    "too_long": "too long for the model's context — saved, not answered",
    "streaming": "writing…",
}
MARKDOWN = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QTextDocument.MarkdownFeature.MarkdownNoHTML  # HTML in a message shows as text, never runs
)


class _Document(QTextDocument):
    """A message body that never loads images or other resources (no file or network access)."""

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        return None


def _images_as_text(doc: QTextDocument) -> None:
    """Show a Markdown image as its address in text: nothing is fetched, and no broken picture."""
    images = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().isImageFormat():
                name = fragment.charFormat().toImageFormat().name()
                images.append((fragment.position(), fragment.length(), name))
            it += 1
        block = block.next()
    for position, length, name in reversed(images):
        cursor = QTextCursor(doc)
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(f"[image: {name}]", QTextCharFormat())


def _shade_code_blocks(doc: QTextDocument) -> None:
    """Give fenced and indented code blocks a background (Markdown import sets none)."""
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.nonBreakableLines() or fmt.hasProperty(QTextFormat.Property.BlockCodeFence):
            fmt.setBackground(QColor(theme.current().code))
            QTextCursor(block).setBlockFormat(fmt)
        block = block.next()


class MessageDelegate(QStyledItemDelegate):
    """Paints bubbles; a "Copy" link in each header copies that message's Markdown."""

    copy_requested = Signal(str)
    receipts_toggled = Signal(int)  # reply id
    memory_opened = Signal(int, int)  # reply id, position shown to the model
    feedback_given = Signal(int, int, int)  # reply id, position, +1 / -1 / 0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._docs: OrderedDict[tuple[int, str, int, int, bool], QTextDocument] = OrderedDict()

    def document(self, message: Message, width: int, shown: int = 0) -> QTextDocument:
        """The message as a laid-out document; with ``shown`` receipts, its citations are links."""
        key = (message.id, message.content, width, shown, theme.current().dark)
        doc = self._docs.get(key)
        if doc is None:
            doc = _Document()
            doc.setDocumentMargin(0)
            text = receipt_rows.link_citations(message.content, shown) if shown else message.content
            if len(text) > SHOWN_CHARS:  # a huge paste would stall the window on every layout
                rest = len(text) - SHOWN_CHARS
                text = f"{text[:SHOWN_CHARS]}\n\n*… and {rest:,} more characters: Copy Message has them all.*"
            doc.setMarkdown(text or " ", MARKDOWN)
            _images_as_text(doc)
            _shade_code_blocks(doc)
            doc.setTextWidth(width)
            self._docs[key] = doc
            if len(self._docs) > 400:
                self._docs.popitem(last=False)
        else:
            self._docs.move_to_end(key)
        return doc

    def _bubble(self, option_rect: QRect, message: Message) -> QRect:
        width = min(option_rect.width() - 2 * MARGIN, MAX_BUBBLE)
        if message.role == "user":
            width = min(width, int(option_rect.width() * 0.8))
            left = option_rect.right() - MARGIN - width
        else:
            left = option_rect.left() + MARGIN
        return QRect(left, option_rect.top() + MARGIN // 2, width, option_rect.height() - MARGIN)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        message: Message = index.data(ObjectRole)
        receipts, expanded = index.data(ReceiptsRole) or ([], False)
        bubble = self._bubble(QRect(0, 0, option.rect.width() or 600, 0), message)
        doc = self.document(message, max(80, bubble.width() - 2 * PADDING), len(receipts))
        extra = receipt_rows.height(receipts, expanded)
        return QSize(option.rect.width(), int(doc.size().height()) + HEADER + 2 * PADDING + MARGIN + extra)

    def _receipt_layout(
        self, option: QStyleOptionViewItem, message: Message, receipts: list[Receipt], expanded: bool
    ) -> receipt_rows.ReceiptLayout:
        bubble = self._bubble(option.rect, message)
        doc = self.document(message, max(80, bubble.width() - 2 * PADDING), len(receipts))
        top = bubble.top() + PADDING + HEADER + int(doc.size().height())
        area = QRect(bubble.left() + PADDING, top, bubble.width() - 2 * PADDING, bubble.bottom() - top)
        return receipt_rows.ReceiptLayout(area, receipts, expanded, option.font)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        message: Message = index.data(ObjectRole)
        bubble = self._bubble(option.rect, message)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colours = theme.current()
        fill = QColor(colours.user_bubble if message.role == "user" else colours.reply_bubble)
        if message.status in ("error", "too_long"):
            fill = QColor(colours.error_bubble)
        painter.setPen(QColor(colours.selected) if selected else Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(bubble, 10, 10)
        self._paint_header(painter, bubble, message, palette)
        receipts, expanded = index.data(ReceiptsRole) or ([], False)
        if receipts:
            painter.save()
            self._receipt_layout(option, message, receipts, expanded).paint(painter)
            painter.restore()
        doc = self.document(message, max(80, bubble.width() - 2 * PADDING), len(receipts))
        painter.translate(bubble.left() + PADDING, bubble.top() + PADDING + HEADER)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, QColor(colours.text))
        context.palette.setColor(QPalette.ColorRole.Link, QColor(colours.link))
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def _paint_header(self, painter: QPainter, bubble: QRect, message: Message, palette: QPalette) -> None:
        who = "You" if message.role == "user" else (message.model or "Assistant")
        note = STATUS_NOTES.get(message.status)
        header = f"{who}  ·  {note}" if note else who
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        font.setBold(True)
        painter.setFont(font)
        colours = theme.current()
        painter.setPen(QColor(colours.bad if message.status in ("error", "too_long") else colours.muted))
        top = QRect(bubble.left() + PADDING, bubble.top() + PADDING - 2, bubble.width() - 2 * PADDING, HEADER)
        painter.drawText(top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, header)
        painter.setPen(QColor(colours.link))
        painter.drawText(top, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, "Copy")

    def copy_rect(self, option_rect: QRect, message: Message) -> QRect:
        bubble = self._bubble(option_rect, message)
        return QRect(bubble.right() - PADDING - 44, bubble.top() + PADDING - 2, 44, HEADER)

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: Index) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            message: Message = index.data(ObjectRole)
            point = event.position().toPoint()
            if self.copy_rect(option.rect, message).contains(point):
                self.copy_requested.emit(message.content)
                return True
            receipts, expanded = index.data(ReceiptsRole) or ([], False)
            if receipts and self._receipt_click(option, message, receipts, expanded, point):
                return True
        return super().editorEvent(event, model, option, index)

    def _receipt_click(
        self,
        option: QStyleOptionViewItem,
        message: Message,
        receipts: list[Receipt],
        expanded: bool,
        point: QPoint,
    ) -> bool:
        """A click on the receipts or on a citation link in the text; True if it was one."""
        hit = self._receipt_layout(option, message, receipts, expanded).hit(point)
        if hit is None:
            cited = self._citation_at(option, message, len(receipts), point)
            if cited is None:
                return False
            hit = receipt_rows.Hit("open", cited)
        if hit.action == "toggle":
            self.receipts_toggled.emit(message.id)
        elif hit.action == "open":
            self.memory_opened.emit(message.id, hit.position)
        else:
            self.feedback_given.emit(message.id, hit.position, hit.value)
        return True

    def _citation_at(
        self, option: QStyleOptionViewItem, message: Message, shown: int, point: QPoint
    ) -> int | None:
        bubble = self._bubble(option.rect, message)
        doc = self.document(message, max(80, bubble.width() - 2 * PADDING), shown)
        local = point - QPoint(bubble.left() + PADDING, bubble.top() + PADDING + HEADER)
        anchor = doc.documentLayout().anchorAt(local.toPointF())
        prefix = f"{receipt_rows.CITE_SCHEME}:"
        if anchor.startswith(prefix) and anchor[len(prefix) :].isdigit():
            return int(anchor[len(prefix) :])
        return None


class TranscriptView(QListView):
    """Shows a conversation; follows a streaming reply while the user is at the bottom."""

    copied = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.delegate = MessageDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setMouseTracking(True)
        self.setObjectName("transcript")
        self.delegate.copy_requested.connect(self.copy_text)

    def copy_text(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copied.emit()

    def copy_current(self) -> None:
        index = self.currentIndex()
        if index.isValid():
            self.copy_text(index.data(ObjectRole).content)

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def row_grew(self, row: int, follow: bool) -> None:
        """A message's text changed: re-measure it and keep following if we were at the end."""
        self.delegate.sizeHintChanged.emit(self.model().index(row, 0))
        if follow:
            self.scrollToBottom()

    def context_menu(self, pos: QPoint, edit_reply: Callable[[Message], None], regenerate: QAction) -> None:
        """Copy any message; edit or regenerate a reply."""
        message = self.message_at(pos)
        if message is None:
            return
        menu = QMenu(self)
        menu.addAction("Copy Message", lambda: self.copy_text(message.content))
        if message.role == "assistant":
            menu.addAction("Edit Reply…", lambda: edit_reply(message))
            menu.addAction(regenerate)
        menu.exec(self.viewport().mapToGlobal(pos))

    def message_at(self, pos: QPoint) -> Message | None:
        index = self.indexAt(pos)
        return index.data(ObjectRole) if index.isValid() else None
