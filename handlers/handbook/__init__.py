"""The member service handbook (职工服务手册): members read and search it, admins edit it.

`member` is browsing, search and the free-text offer; `editor` is the admins'
add, edit, move and delete (its conversation drawn in `handbook_edit.mmd`).
"""

from __future__ import annotations

from telegram.ext import Application

from handlers.handbook import editor, member


def register(application: Application) -> None:
    editor.register(application)  # first: its conversation takes an admin's text mid-edit
    member.register(application)
