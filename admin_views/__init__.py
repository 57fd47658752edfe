"""The staff panel: Flask-Admin views registered on the app by :func:`init_admin`."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin_views.base import HomeView
from admin_views.product import CoverageTypeView, ProductView
from admin_views.record import RecordView
from admin_views.tag import TagView
from admin_views.task import MyTaskView, TaskView
from admin_views.user import UserView
from app.headers import csp_nonce
from models import CoverageType, Product, Record, Tag, Task, User, db


def init_admin(app: Flask) -> Admin:
    """Create the Admin for this app (never at module level: one per app, tests included)."""
    app.register_blueprint(
        Blueprint(
            "staff_ui",
            __name__,
            template_folder="templates",
            static_folder="static",
            static_url_path="/admin-assets",
        )
    )
    admin = Admin(
        app,
        name="Portico",
        theme=Bootstrap4Theme(
            swatch="cerulean", fluid=True, base_template="admin/portico_base.html"
        ),
        index_view=HomeView(name="Home", url="/admin", template="admin/home.html"),
        csp_nonce_generator=csp_nonce,
    )
    admin.add_view(RecordView(Record, db, name="Records", endpoint="record"))
    admin.add_view(ProductView(Product, db, name="Products", endpoint="product"))
    admin.add_view(
        MyTaskView(Task, db, name="My open tasks", endpoint="my_tasks", category="Tasks")
    )
    admin.add_view(TaskView(Task, db, name="All tasks", endpoint="task", category="Tasks"))
    admin.add_view(TagView(Tag, db, name="Tags", endpoint="tag", category="Settings"))
    admin.add_view(
        CoverageTypeView(
            CoverageType, db, name="Coverage types", endpoint="coverage_type", category="Settings"
        )
    )
    admin.add_view(
        UserView(User, db, name="Staff users", endpoint="staff_user", category="Settings")
    )
    return admin
