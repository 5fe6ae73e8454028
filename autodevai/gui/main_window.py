"""The main window: a sidebar of panels, an error banner, a status bar, a menu bar (File → Quit with Ctrl+Q,
View → Theme), alert toasts in the corner when there is no tray; geometry and last panel restored."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from autodevai.gui.bridge import GuiContext
from autodevai.gui.notifications import AlertNotifier, ToastStack
from autodevai.gui.panels import PANELS, create_panel
from autodevai.gui.panels.base import Panel
from autodevai.gui.theme import THEME_MODES
from autodevai.gui.widgets import Banner

if TYPE_CHECKING:
    from autodevai.compose import App

__all__ = ["MainWindow"]


class MainWindow(QMainWindow):
    """The app's window. ``show_panel(title)`` switches pages; panels are built on first show."""

    closing = Signal()  # the window is really closing (not just hiding to the tray)

    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("AutoDevAI")
        self.setMinimumSize(900, 600)
        self.keep_in_tray = False  # set by the app when a tray icon exists and the setting allows it
        self.panels: dict[str, Panel] = {}

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(190)
        self.sidebar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for index, (title, _spec) in enumerate(PANELS):
            item = QListWidgetItem(title)
            if index < 10:  # Ctrl+1 … Ctrl+9, Ctrl+0 for the tenth
                item.setToolTip(f"{title} (Ctrl+{(index + 1) % 10})")
            self.sidebar.addItem(item)
        row.addWidget(self.sidebar)

        right = QWidget()
        col = QVBoxLayout(right)
        col.setContentsMargins(0, 0, 0, 0)
        self.banner = Banner()
        col.addWidget(self.banner)
        self.stack = QStackedWidget()
        col.addWidget(self.stack, 1)
        row.addWidget(right, 1)
        self.setCentralWidget(central)

        self.engine_label = QLabel("Starting the engine…")
        self.statusBar().addWidget(self.engine_label, 1)
        self.gateway_label = QLabel("")
        self.statusBar().addPermanentWidget(self.gateway_label)

        self._placeholders: dict[str, QVBoxLayout] = {}
        for title, _spec in PANELS:
            holder = QWidget()
            holder_layout = QVBoxLayout(holder)
            holder_layout.setContentsMargins(0, 0, 0, 0)
            self._placeholders[title] = holder_layout
            self.stack.addWidget(holder)
        self.sidebar.currentRowChanged.connect(self._on_row)

        for index in range(min(len(PANELS), 10)):
            key = "0" if index == 9 else str(index + 1)
            shortcut = QShortcut(QKeySequence(f"Ctrl+{key}"), self)
            shortcut.activated.connect(lambda i=index: self.sidebar.setCurrentRow(i))

        ctx.events.error.connect(lambda title, msg: self.banner.show_message(title, msg))
        ctx.events.engine_failed.connect(lambda msg: self.banner.show_message("The engine could not start", msg))
        ctx.events.engine_ready.connect(self._on_engine_ready)
        ctx.events.gateway_changed.connect(self.gateway_label.setText)
        self.gateway_label.setText(ctx.gateway_status)
        self.gateway_label.setToolTip(
            "The local OpenAI-compatible endpoint (`autodevai config set gateway.enabled true`)"
        )
        ctx.events.use_model.connect(self._use_model)
        ctx.events.open_conversation.connect(self.open_conversation)
        self.toasts = ToastStack(right)
        self.notifier = AlertNotifier(ctx, self.toasts, self)
        self.notifier.open_status.connect(self._open_status)
        self._build_menus()
        self._restore()
        if ctx.app is not None:  # the engine opened before this window was built
            self._on_engine_ready(ctx.app)

    # ---- menus --------------------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.quit_action = QAction("&Quit", self)
        # The platform's Quit keys, and Ctrl+Q everywhere (Windows defines no standard Quit shortcut).
        keys = [k for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) if not k.isEmpty()]
        ctrl_q = QKeySequence("Ctrl+Q")
        self.quit_action.setShortcuts([*keys, ctrl_q] if ctrl_q not in keys else keys)
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.setToolTip("Quit AutoDevAI (also when it keeps running in the tray)")
        self.quit_action.triggered.connect(self.quit_app)
        file_menu.addAction(self.quit_action)

        view = bar.addMenu("&View")
        theme_menu = view.addMenu("&Theme")
        self.theme_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        group.setExclusive(True)
        for mode, label in THEME_MODES.items():
            action = QAction(label, self, checkable=True)
            action.setToolTip(
                "Follow the desktop's light or dark setting" if mode == "system" else f"Always use the {mode} theme"
            )
            action.triggered.connect(lambda _checked=False, m=mode: self.ctx.theme.set_mode(m))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[mode] = action
        self.theme_actions[self.ctx.theme.mode].setChecked(True)
        self.ctx.theme.changed.connect(self._on_theme_changed)

    def _on_theme_changed(self, mode: str, _dark: bool) -> None:
        self.theme_actions[mode].setChecked(True)

    def quit_app(self) -> None:
        """Quit for real (Ctrl+Q, File → Quit): close the window even when it would keep running in the tray."""
        self.keep_in_tray = False
        if self.isVisible():
            self.close()
        else:  # hidden in the tray: nothing to close, but the app must still end
            self.save_state()
            self._closed()

    def _open_status(self) -> None:
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()
        self.show_panel("Status")

    # ---- pages --------------------------------------------------------------------------------------------

    def panel(self, title: str) -> Panel:
        """The panel named ``title``, created now if it was not yet."""
        existing = self.panels.get(title)
        if existing is not None:
            return existing
        spec = dict(PANELS)[title]
        panel = create_panel(spec, self.ctx)
        self._placeholders[title].addWidget(panel)
        self.panels[title] = panel
        return panel

    def show_panel(self, title: str) -> Panel:
        index = [t for t, _ in PANELS].index(title)
        self.sidebar.setCurrentRow(index)
        return self.panel(title)

    def _use_model(self, model_id: str) -> None:
        # Build Execute first if needed: a panel created after the signal would miss it.
        panel = self.show_panel("Execute")
        use = getattr(panel, "use_model", None)
        if callable(use):
            use(model_id)

    def open_conversation(self, conversation_id: str) -> None:
        """Bring the window up on Execute with this conversation open (from the tray's quick prompt)."""
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()
        panel = self.show_panel("Execute")
        open_ = getattr(panel, "open_conversation", None)
        if callable(open_):
            open_(conversation_id)

    def current_title(self) -> str:
        return PANELS[max(self.sidebar.currentRow(), 0)][0]

    def _on_row(self, row: int) -> None:
        if row < 0:
            return
        previous = self.stack.currentIndex()
        if previous != row:
            old = self.panels.get(PANELS[previous][0])
            if old is not None:
                old.on_hidden()
        title = PANELS[row][0]
        panel = self.panel(title)
        self.stack.setCurrentIndex(row)
        panel.on_shown()

    def _on_engine_ready(self, app: App) -> None:
        engine = self.ctx.engine
        names = ", ".join(engine.provider_names()) or "no provider"
        sim = " (built-in simulator)" if app.sim is not None else ""
        self.engine_label.setText(f"Providers: {names}{sim} · {len(engine.models())} models")

    # ---- persistence ----------------------------------------------------------------------------------------

    def _restore(self) -> None:
        s = self.ctx.qsettings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(1180, 760)
        last = s.value("window/panel", "Execute")
        titles = [t for t, _ in PANELS]
        self.sidebar.setCurrentRow(titles.index(last) if last in titles else 0)

    def save_state(self) -> None:
        s = self.ctx.qsettings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/panel", self.current_title())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        if self.keep_in_tray:
            event.ignore()
            self.hide()
            return
        self._closed()
        event.accept()

    def _closed(self) -> None:
        """The window is going away for good: stop the panels' timers and the toasts, then say so."""
        for panel in self.panels.values():
            panel.on_hidden()
        self.toasts.clear()
        self.closing.emit()
