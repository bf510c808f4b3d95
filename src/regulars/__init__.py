"""regulars: know every customer the way a good shop knows its regulars."""

__version__ = "0.1.0"
