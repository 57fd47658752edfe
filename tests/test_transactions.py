"""One commit per request: what a view's services did is saved when the view answers below
500, undone on a server error, and a refused service call inside ``attempt()`` is undone on
its own while the rest of the request is kept."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from app import transactions
from app.services.errors import ValidationError
from models import Tag, db


def _names(app):
    with app.app_context():
        return set(db.session.scalars(select(Tag.name)))


def _app_with_routes(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)

    @app.post("/t/ok")
    def ok():
        db.session.add(Tag(name="kept", colour="#336699"))
        return "ok"

    @app.post("/t/refused")
    def refused():
        db.session.add(Tag(name="counted", colour="#336699"))  # an attempt, say
        try:
            with transactions.attempt():
                db.session.add(Tag(name="undone", colour="#336699"))
                db.session.flush()
                raise ValidationError("no")
        except ValidationError:
            abort(400)

    @app.post("/t/broken")
    def broken():
        db.session.add(Tag(name="lost", colour="#336699"))
        db.session.flush()
        raise RuntimeError("a bug")

    return app


def test_a_request_commits_once_when_it_answers(make_app):
    app = _app_with_routes(make_app)
    client = app.test_client()
    assert client.post("/t/ok").status_code == 200
    assert "kept" in _names(app)


def test_a_refusal_keeps_the_rest_of_the_request_but_not_the_refused_change(make_app):
    app = _app_with_routes(make_app)
    client = app.test_client()
    assert client.post("/t/refused").status_code == 400
    names = _names(app)
    assert "counted" in names
    assert "undone" not in names


def test_a_server_error_saves_nothing(make_app):
    app = _app_with_routes(make_app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    assert client.post("/t/broken").status_code == 500
    assert "lost" not in _names(app)
