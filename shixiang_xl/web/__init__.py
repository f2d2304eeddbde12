"""``shixiang serve``: the cycle as local web pages for the clerk (see :mod:`shixiang_xl.web.app`)."""

from .app import Server, create_app, serve, start

__all__ = ["Server", "create_app", "serve", "start"]
