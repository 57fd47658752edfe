"""The staff panel: Flask-Admin views registered on the app by :func:`init_admin`."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin_views.activity import ActivityView
from admin_views.base import plural
from admin_views.certificate import CertificateView
from admin_views.conversation import ConversationView
from admin_views.custom_field import CustomFieldView
from admin_views.document import DocumentCategoryView, DocumentInboxView, DocumentView
from admin_views.home import HomeView
from admin_views.journey import JourneyView
from admin_views.journey_session import JourneySessionView, MyJourneySessionView
from admin_views.journey_step import JourneyStepView
from admin_views.notification_rule import NotificationRuleView
from admin_views.outbox import OutboxView
from admin_views.pending_change import PendingChangeView
from admin_views.portal_field import PortalFieldView
from admin_views.portal_settings import PortalSettingsView
from admin_views.product import CoverageTypeView, ProductView
from admin_views.record import RecordView
from admin_views.request_type import RequestFieldView, RequestTypeView
from admin_views.review import ReviewView
from admin_views.sign_admin import DisclosureView, SignLayoutView, VerifyView
from admin_views.sign_request import SignRequestView
from admin_views.survey import SurveyQuestionView, SurveyResponseView, SurveyView
from admin_views.system import SystemView
from admin_views.tag import TagView
from admin_views.task import MyTaskView, TaskView
from admin_views.team import TeamView
from admin_views.template import TemplateView
from admin_views.user import UserView
from admin_views.workflow import ScheduledActionView, WorkflowView
from app.headers import csp_nonce
from models import (
    ActivityEntry,
    CertificateMaster,
    Conversation,
    CoverageType,
    CustomField,
    Document,
    DocumentCategory,
    Journey,
    JourneySession,
    JourneyStep,
    MessageTemplate,
    OutboxMessage,
    PendingChange,
    PortalSettings,
    Product,
    Record,
    RequestField,
    RequestType,
    Review,
    ScheduledAction,
    SignRequest,
    Survey,
    SurveyQuestion,
    SurveyResponse,
    Tag,
    Task,
    Team,
    User,
    Workflow,
    db,
)


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
    app.jinja_env.globals["plural"] = plural
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
    admin.add_view(
        DocumentView(Document, db, name="All documents", endpoint="document", category="Documents")
    )
    admin.add_view(
        DocumentInboxView(
            Document,
            db,
            name="New client documents",
            endpoint="document_inbox",
            category="Documents",
        )
    )
    admin.add_view(ConversationView(Conversation, db, name="Requests", endpoint="requests"))
    admin.add_view(
        CertificateView(CertificateMaster, db, name="Certificates", endpoint="certificates")
    )
    admin.add_view(
        SignRequestView(
            SignRequest, db, name="Sign requests", endpoint="sign_requests", category="Signing"
        )
    )
    admin.add_view(
        VerifyView(name="Verify a signed PDF", endpoint="sign_verify", category="Signing")
    )
    admin.add_view(
        SignLayoutView(name="Saved layouts", endpoint="sign_layouts", category="Signing")
    )
    admin.add_view(
        DisclosureView(name="Disclosure", endpoint="sign_disclosure", category="Signing")
    )
    admin.add_view(PendingChangeView(PendingChange, db, name="Approvals", endpoint="approvals"))
    admin.add_view(ReviewView(Review, db, name="Reviews", endpoint="reviews"))
    admin.add_view(
        SurveyResponseView(
            SurveyResponse, db, name="Answers", endpoint="survey_response", category="Surveys"
        )
    )
    admin.add_view(SurveyView(Survey, db, name="Surveys", endpoint="survey", category="Surveys"))
    admin.add_view(
        SurveyQuestionView(
            SurveyQuestion, db, name="Questions", endpoint="survey_question", category="Surveys"
        )
    )
    admin.add_view(
        WorkflowView(Workflow, db, name="Workflows", endpoint="workflow", category="Workflows")
    )
    admin.add_view(
        ScheduledActionView(
            ScheduledAction,
            db,
            name="Scheduled actions",
            endpoint="scheduled",
            category="Workflows",
        )
    )
    admin.add_view(
        MyJourneySessionView(
            JourneySession,
            db,
            name="My journey sessions",
            endpoint="my_journey_sessions",
            category="Journeys",
        )
    )
    admin.add_view(
        JourneySessionView(
            JourneySession,
            db,
            name="All sessions",
            endpoint="journey_sessions",
            category="Journeys",
        )
    )
    admin.add_view(
        JourneyView(Journey, db, name="Journeys", endpoint="journey", category="Journeys")
    )
    admin.add_view(
        JourneyStepView(
            JourneyStep, db, name="Steps", endpoint="journey_steps", category="Journeys"
        )
    )
    admin.add_view(ActivityView(ActivityEntry, db, name="Activity", endpoint="activity"))
    admin.add_view(
        PortalSettingsView(
            PortalSettings, db, name="Portal", endpoint="portal_settings", category="Settings"
        )
    )
    admin.add_view(
        PortalFieldView(name="Portal fields", endpoint="portal_fields", category="Settings")
    )
    admin.add_view(
        RequestTypeView(
            RequestType, db, name="Request types", endpoint="request_type", category="Settings"
        )
    )
    admin.add_view(
        RequestFieldView(
            RequestField, db, name="Request fields", endpoint="request_field", category="Settings"
        )
    )
    admin.add_view(
        CustomFieldView(
            CustomField, db, name="Custom fields", endpoint="custom_field", category="Settings"
        )
    )
    admin.add_view(
        TemplateView(
            MessageTemplate, db, name="Templates", endpoint="template", category="Settings"
        )
    )
    admin.add_view(
        NotificationRuleView(name="Notifications", endpoint="notifications", category="Settings")
    )
    admin.add_view(
        OutboxView(OutboxMessage, db, name="Outbox", endpoint="outbox", category="Settings")
    )
    admin.add_view(
        DocumentCategoryView(
            DocumentCategory,
            db,
            name="Document categories",
            endpoint="document_category",
            category="Settings",
        )
    )
    admin.add_view(TagView(Tag, db, name="Tags", endpoint="tag", category="Settings"))
    admin.add_view(
        CoverageTypeView(
            CoverageType, db, name="Coverage types", endpoint="coverage_type", category="Settings"
        )
    )
    admin.add_view(
        UserView(User, db, name="Staff users", endpoint="staff_user", category="Settings")
    )
    admin.add_view(TeamView(Team, db, name="Teams", endpoint="team", category="Settings"))
    admin.add_view(SystemView(name="System", endpoint="system", category="Settings"))
    return admin
