"""The status bar's parts: the model and its state, load progress, "Reflecting…", the last reply's speed."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar


class StatusLine:
    def __init__(self, bar: QStatusBar) -> None:
        self.model = QLabel()
        self.state = QLabel()
        self.speed = QLabel()
        self.reflecting = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        bar.addWidget(self.model)
        bar.addWidget(self.state)
        bar.addWidget(self.progress)
        bar.addPermanentWidget(self.reflecting)
        bar.addPermanentWidget(self.speed)
