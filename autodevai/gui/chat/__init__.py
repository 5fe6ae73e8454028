"""The conversation view of the Execute panel: Markdown rendering, the virtualized thread of message bubbles, the
list of conversations, the composer, the streaming pump, the side-by-side comparison and the session that joins
them to ``Engine.conversations``."""
