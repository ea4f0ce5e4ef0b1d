"""The main window: conversations on the left, the transcript and composer on the right."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import dialogs, theme
from app.composer import Composer, input_row
from app.controller import ChatController, ModelState
from app.conversation_panel import ConversationPanel
from app.layout import CHAT_MIN_WIDTH, restore_geometry, save_geometry
from app.memory_actions import MemoryActions
from app.models import TranscriptModel
from app.preference_actions import PreferenceActions
from app.receipt_views import ReceiptViews
from app.send_queue import SendQueue
from app.settings_dialog import SettingsDialog
from app.status_line import StatusLine
from app.transcript import TranscriptView
from app.welcome import show_welcome
from app.window_base import WindowBase
from memory.answering.chat import ReplyResult
from memory.store.database import Conversation, Message


class MainWindow(WindowBase):
    def __init__(self, controller: ChatController, ui_state: QSettings | None = None) -> None:
        super().__init__()
        self.controller = controller
        self.ui_state = ui_state
        self.current_id: int | None = None
        self.setWindowTitle("Memoir")
        self.resize(1100, 760)
        self.transcript_model = TranscriptModel()
        self._build_widgets()
        self.receipts = r = ReceiptViews(self)  # receipts under replies, and going to a message
        self.jump_to, self.jump_to_message, self.reset_ranking = r.jump_to, r.jump_to_message, r.reset_ranking
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self.memory_actions = MemoryActions(self, controller)  # each sees the window as Navigation
        self.preference_actions = PreferenceActions(self, controller)
        # one side area, two tabs: side by side, the panels left the chat ~200 px at the default size
        self.tabifyDockWidget(self.memory_actions.dock, self.preference_actions.dock)
        restore_geometry(self, self.splitter, self.ui_state)
        self._update_actions()
        controller.conversations.refresh()

    # Construction --------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.conversations = ConversationPanel()
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.transcript = TranscriptView()
        self.transcript.setModel(self.transcript_model)
        self.transcript.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.empty_hint = QLabel("Start a conversation: type a message below.")
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.composer = Composer()
        row, self.send_button, self.stop_button, self.regenerate_button = input_row(self.composer)
        right = QWidget()
        # the reply and its receipts stay readable however many panels are open beside them
        right.setMinimumWidth(CHAT_MIN_WIDTH)
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 6, 6, 6)
        column.addWidget(self.banner)
        column.addWidget(self.empty_hint)
        column.addWidget(self.transcript, 1)
        column.addLayout(row)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.conversations)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 840])
        self.setCentralWidget(self.splitter)

    def _build_menus(self) -> None:
        def action(
            text: str, slot: object, shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None
        ) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            return act

        keys = QKeySequence.StandardKey
        self.new_action = action("&New Conversation", self.new_conversation, keys.New)
        self.settings_action = action("&Settings…", self.open_settings, keys.Preferences)
        self.quit_action = action("&Quit", self.close, keys.Quit)
        self.stop_action = action("&Stop Generating", self.controller.stop, "Esc")
        self.regenerate_action = action("&Regenerate Reply", self.regenerate, "Ctrl+R")
        self.remember_action = action("Re&member This Conversation Now", self.remember_now, "Ctrl+M")
        self.copy_action = action("&Copy Message", self.transcript.copy_current, keys.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.transcript.addAction(self.copy_action)
        file_menu = self.file_menu = self.menuBar().addMenu("&File")
        for act in (self.new_action, self.settings_action, self.quit_action):
            file_menu.addAction(act)
        chat_menu = self.chat_menu = self.menuBar().addMenu("&Conversation")
        chat_menu.addActions([self.conversations.rename_action, self.conversations.delete_action])
        chat_menu.addSeparator()
        chat_menu.addActions([self.stop_action, self.regenerate_action, self.copy_action])
        memory_menu = self.memory_menu = self.menuBar().addMenu("&Memory")
        memory_menu.addAction(self.remember_action)
        memory_menu.addAction(action("Reset Learned Memory Ranking…", self.reset_ranking))
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addActions(
            [
                action("&Welcome to Memoir…", lambda: show_welcome(self, self.controller)),
                action("&About Memoir", lambda: dialogs.about(self)),
            ]
        )

    def _build_status_bar(self) -> None:
        line = StatusLine(self.statusBar())
        self.model_label, self.state_label, self.speed_label = line.model, line.state, line.speed
        self.reflect_label, self.progress = line.reflecting, line.progress

    def _connect(self) -> None:
        c = self.controller
        c.model_state_changed.connect(self._on_controller_model_state_changed)
        c.load_progressed.connect(lambda f: self.progress.setValue(int(f * 100)))
        c.conversations.listed.connect(self._on_controller_conversations_loaded)
        c.conversations.messages_loaded.connect(self._on_controller_messages_loaded)
        c.message_added.connect(self._on_controller_message_added)
        c.reply_text_changed.connect(self._on_controller_reply_text_changed)
        c.reply_finished.connect(self._on_controller_reply_finished)
        c.reply_failed.connect(self._on_controller_reply_failed)
        c.not_sent.connect(self._on_not_sent)
        c.problem.connect(lambda text: self.statusBar().showMessage(text, 15000))
        c.reflection_progressed.connect(self.reflect_label.setText)
        c.conversations.receipts_loaded.connect(self.receipts.loaded)
        c.conversations.receipts_changed.connect(self.receipts.set_receipts)
        delegate = self.transcript.delegate
        delegate.receipts_toggled.connect(self.receipts.toggle_receipts)
        delegate.memory_opened.connect(self.receipts.show_memory)
        delegate.feedback_given.connect(c.conversations.memory_feedback)
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(self.remember_now)
        self.conversations.selected.connect(self.open_conversation)
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.delete_requested.connect(self._on_conversations_delete_requested)
        self.conversations.model.rename_requested.connect(c.conversations.rename)
        self.composer.submitted.connect(self.send)
        current = lambda: self.current_id  # noqa: E731
        self.send_queue = SendQueue(self.composer, self.send_button, self.statusBar(), current)
        self.send_queue.released.connect(self.send)
        self.controller.read_ahead.watch(self.composer, current)
        self.send_button.clicked.connect(lambda: self.send(self.composer.toPlainText()))
        self.stop_button.clicked.connect(c.stop)
        self.regenerate_button.clicked.connect(self.regenerate)
        self.transcript.copied.connect(lambda: self.statusBar().showMessage("Copied", 2000))
        self.transcript.customContextMenuRequested.connect(
            lambda pos: self.transcript.context_menu(
                pos, self.preference_actions.edit_reply, self.regenerate_action
            )
        )
        self.transcript_model.modelReset.connect(self._update_empty_hint)
        self.transcript_model.rowsInserted.connect(self._update_empty_hint)

    # Conversations -------------------------------------------------------------------------

    def new_conversation(self) -> None:
        def created(conversation: Conversation) -> None:
            if self.current_id is not None:
                self.controller.reflect(self.current_id)
            self.current_id = conversation.id
            self.transcript_model.set_messages(conversation.id, [])
            self.controller.conversations.refresh()
            self.composer.setFocus()

        self.controller.conversations.new(created)

    def remember_now(self) -> None:
        if self.current_id is not None:
            self.controller.reflect(self.current_id)

    def _restart_idle_timer(self) -> None:
        self.idle_timer.start(self.controller.settings.reflect_after_minutes * 60_000)

    def open_conversation(self, conversation_id: int) -> None:
        if self.current_id is not None and self.current_id != conversation_id:
            self.controller.reflect(self.current_id)  # leaving a conversation ends its session
        self.current_id = conversation_id
        self.controller.conversations.open(conversation_id)
        self._update_actions()

    def _on_controller_conversations_loaded(self, items: list[Conversation]) -> None:
        if self.current_id is not None and all(c.id != self.current_id for c in items):
            self.current_id = None
            self.transcript_model.set_messages(None, [])
        self.conversations.set_conversations(items, self.current_id)
        if self.current_id is None and items:
            self.conversations.select(items[0].id)
        self._update_actions()

    def _on_controller_messages_loaded(self, conversation_id: int, messages: list[Message]) -> None:
        if conversation_id == self.current_id:
            self.transcript_model.set_messages(conversation_id, messages)
            jump, self.receipts.pending_jump = self.receipts.pending_jump, None
            row = self.transcript_model.row_of(jump) if jump is not None else -1
            if row >= 0:
                index = self.transcript_model.index(row)
                self.transcript.setCurrentIndex(index)
                self.transcript.scrollTo(index, self.transcript.ScrollHint.PositionAtCenter)
            else:
                self.transcript.scrollToBottom()
            self._update_actions()

    def _on_conversations_delete_requested(self, conversation_id: int) -> None:
        if conversation_id == self.current_id:
            self.current_id = None
            self.transcript_model.set_messages(None, [])
        self.controller.conversations.delete(conversation_id)

    # Chatting ------------------------------------------------------------------------------

    def send(self, text: str) -> None:
        if not text.strip():
            return
        if not self.controller.can_send():  # the text stays in the box: nothing is lost
            if self.controller.state in (ModelState.GENERATING, ModelState.LOADING):
                self.send_queue.hold(text)  # sent when the model is ready
            else:
                self.statusBar().showMessage("Not sent: no model is loaded (File → Settings).", 8000)
            return
        self.composer.clear()  # given back by _on_not_sent if it can't be stored

        def created(conversation: Conversation) -> None:
            if self.current_id is None:
                self.current_id = conversation.id
                self.transcript_model.set_messages(conversation.id, [])

        self.controller.send(self.current_id, text, on_conversation=created)
        self._update_actions()

    def _on_not_sent(self, text: str, reason: str) -> None:
        """Put an unsaved message back in the box (before anything typed since): nothing is lost."""
        typed = self.composer.toPlainText()
        self.composer.setPlainText(f"{text}\n{typed}" if typed.strip() else text)
        self.statusBar().showMessage(reason, 10000)
        dialogs.warn(self, "Not sent", f"{reason}\n\nYour message is back in the box; nothing was lost.")

    def regenerate(self) -> None:
        if self.current_id is not None and self.controller.can_send():
            self.controller.regenerate(self.current_id)

    def _on_controller_message_added(self, message: Message) -> None:
        follow = self.transcript.at_bottom()
        self.transcript_model.upsert(message)
        if follow or message.role == "user":
            self.transcript.scrollToBottom()
        self._update_actions()

    def _on_controller_reply_text_changed(self, message_id: int, text: str) -> None:
        follow = self.transcript.at_bottom()
        row = self.transcript_model.update_text(message_id, text)
        if row >= 0:
            self.transcript.row_grew(row, follow)

    def _on_controller_reply_finished(self, result: ReplyResult) -> None:
        follow = self.transcript.at_bottom()
        self.transcript_model.upsert(result.message)
        if result.receipts:
            self.transcript_model.set_receipts(result.message.id, result.receipts)
        row = self.transcript_model.row_of(result.message.id)
        if row >= 0:
            self.transcript.row_grew(row, follow)
        self._restart_idle_timer()
        if result.dropped_turns:
            self.statusBar().showMessage(
                f"{result.dropped_turns} older messages no longer fit the model's context.", 6000
            )
        # no list reload: sending already moved the conversation to the top and titled it

    def _on_controller_reply_failed(self, conversation_id: int, reason: str) -> None:
        self.statusBar().showMessage(reason, 10000)
        if conversation_id == self.current_id:
            dialogs.warn(self, "No reply", reason)

    def _on_controller_model_state_changed(self, state: ModelState, detail: str) -> None:
        self.model_label.setText(self.controller.model_name or "no model")
        self.state_label.setText(state.value if state != ModelState.READY else detail)
        self.progress.setVisible(state == ModelState.LOADING)
        if state == ModelState.READY and self.controller.last_tokens_per_second:
            self.speed_label.setText(f"{self.controller.last_tokens_per_second:.1f} tokens/s")
        if state == ModelState.ERROR:
            self.banner.setText(
                f"<b>The model could not be loaded.</b> {detail}<br>"
                "Your conversations are still here. Choose another model in "
                "<i>File → Settings</i>."
            )
            self.banner.show()
        elif state in (ModelState.READY, ModelState.LOADING):
            self.banner.hide()
        self._update_actions()
        if state == ModelState.READY:
            self.send_queue.ready()

    def _update_actions(self) -> None:
        generating = self.controller.state == ModelState.GENERATING
        ready = self.controller.can_send()
        has_reply = any(m.role == "assistant" for m in self.transcript_model.messages())
        self.send_button.setEnabled(ready or generating or self.controller.state == ModelState.LOADING)
        self.stop_button.setEnabled(generating)
        self.stop_action.setEnabled(generating)
        self.regenerate_button.setEnabled(ready and has_reply)
        self.regenerate_action.setEnabled(ready and has_reply)
        placeholder = {
            ModelState.LOADING: "The model is loading — type and send; it goes once the model is ready.",
            ModelState.ERROR: "No model is loaded — choose one in File → Settings. You can type meanwhile.",
            ModelState.NONE: "No model is loaded — choose one in File → Settings. You can type meanwhile.",
        }.get(self.controller.state, "Message Memoir…  (Enter to send, Shift+Enter for a new line)")
        if placeholder != self.composer.placeholderText():
            self.composer.setPlaceholderText(placeholder)
            self.composer.viewport().update()  # Qt does not repaint a changed placeholder itself

    def _update_empty_hint(self) -> None:
        self.empty_hint.setVisible(self.transcript_model.rowCount() == 0)

    # Dialogs and lifecycle -----------------------------------------------------------------

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.controller.settings, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.controller.apply_settings(dialog.settings())
            theme.use(dialog.settings().appearance)

    def closeEvent(self, event: QCloseEvent) -> None:
        save_geometry(self, self.splitter, self.ui_state)
        self.controller.stop()  # the caller of app.exec() shuts the controller down
        event.accept()
