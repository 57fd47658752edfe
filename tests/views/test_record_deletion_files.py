"""Deleting a record deletes its documents' files too, once the deletion is committed."""

import io

from app.services import documents
from app.services.actors import Actor
from app.storage import storage
from models import Document, Record, RecordKind, db
from tests import factories


def test_deleting_a_record_deletes_its_files(app, admin_client, admin_user):
    with app.app_context():
        record = factories.record(kind=RecordKind.CLIENT)
        kept = documents.add_files(
            record,
            [documents.Upload(io.BytesIO(b"%PDF-1.4 policy"), "policy.pdf")],
            actor=Actor.staff(db.session.merge(admin_user)),
        )
        key, record_id = kept[0].storage_key, record.id
        db.session.commit()
        assert storage().size(key) == len(b"%PDF-1.4 policy")
    response = admin_client.submit(
        "/admin/record/delete/", {"id": record_id}, page="/admin/record/"
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Record, record_id) is None
        assert db.session.query(Document).count() == 0
        with app.test_request_context():
            try:
                storage().size(key)
            except Exception as error:  # the file is gone: the storage answers "not found"
                assert "not exist" in str(error) or type(error).__name__ == "NotFound"
            else:
                raise AssertionError("the file outlived its record")
