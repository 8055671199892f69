"""bfg-tui: the keyboard-first cutover console."""

__version__ = "0.1.0"
