def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["redis"]["ok"]


def test_healthz_is_503_when_redis_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is False and "Error" in body["redis"]["error"]


def test_healthz_is_503_when_the_database_is_down(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"]["ok"] is False
