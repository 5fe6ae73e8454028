"""The desktop face: a PySide6 window over the engine on a qasync event loop. The only package importing Qt."""
