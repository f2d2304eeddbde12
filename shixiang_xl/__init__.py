"""shixiang-xl (实事通): the supervision office's toolkit for the yearly ten livelihood projects."""

__version__ = "0.1.0"
