"""Portico's models. This module only re-exports; each concept lives in its own module."""

from models.activity import ActivityChainHead, ActivityEntry, AppendOnlyError
from models.base import Base, LabelledEnum, TimestampMixin, UTCDateTime, db, utcnow
from models.certificate import (
    Certificate,
    CertificateCounter,
    CertificateHolder,
    CertificateMaster,
    ProductLimit,
    certificate_master_products,
)
from models.contact import Contact, ContactRole
from models.contact_change import ContactChange
from models.conversation import (
    Conversation,
    ConversationKind,
    ConversationMessage,
    ConversationStatus,
    RequestEvent,
    RequestField,
    RequestType,
)
from models.custom_field import CustomField, CustomFieldType, CustomFieldValue
from models.document import (
    AccessAction,
    Document,
    DocumentAccess,
    DocumentCategory,
    DocumentKind,
    DocumentSource,
)
from models.journey import (
    Journey,
    JourneyField,
    JourneyMilestone,
    JourneySession,
    JourneyStep,
    JourneyUpload,
    SessionStatus,
    StepKind,
    Team,
)
from models.notification_rule import NotificationRule
from models.outbox import OutboxMessage, OutboxStatus
from models.pending_change import ChangeStatus, PendingChange
from models.portal_account import AccountStatus, LoginCode, PortalAccount
from models.portal_field import FieldMode, PortalField
from models.portal_settings import PortalSettings
from models.prescription import Prescription
from models.product import CoverageType, Product, ProductStatus
from models.provider import Provider
from models.record import ContactMethod, Record, RecordKind
from models.review import Review, ReviewRequest
from models.session import SignInSession
from models.sign_request import (
    OPEN_STATUSES,
    Disclosure,
    SignatureStyle,
    SignerRole,
    SignerStatus,
    SignField,
    SignFieldKind,
    SignRequest,
    SignRequestSigner,
    SignRequestStatus,
    SignTemplate,
)
from models.survey import Survey, SurveyQuestion, SurveyResponse
from models.tag import Tag, record_tags
from models.task import Task, TaskKind
from models.template import Channel, MessageTemplate
from models.user import Role, StaffRole, User, WebAuthn
from models.workflow import ActionKind, ActionTarget, DelayUnit, Workflow, WorkflowAction
from models.workflow_run import ActionStatus, RunStatus, ScheduledAction, WorkflowRun

__all__ = [
    "OPEN_STATUSES",
    "AccessAction",
    "AccountStatus",
    "ActionKind",
    "ActionStatus",
    "ActionTarget",
    "ActivityChainHead",
    "ActivityEntry",
    "AppendOnlyError",
    "Base",
    "Certificate",
    "CertificateCounter",
    "CertificateHolder",
    "CertificateMaster",
    "ChangeStatus",
    "Channel",
    "Contact",
    "ContactChange",
    "ContactMethod",
    "ContactRole",
    "Conversation",
    "ConversationKind",
    "ConversationMessage",
    "ConversationStatus",
    "CoverageType",
    "CustomField",
    "CustomFieldType",
    "CustomFieldValue",
    "DelayUnit",
    "Disclosure",
    "Document",
    "DocumentAccess",
    "DocumentCategory",
    "DocumentKind",
    "DocumentSource",
    "FieldMode",
    "Journey",
    "JourneyField",
    "JourneyMilestone",
    "JourneySession",
    "JourneyStep",
    "JourneyUpload",
    "LabelledEnum",
    "LoginCode",
    "MessageTemplate",
    "NotificationRule",
    "OutboxMessage",
    "OutboxStatus",
    "PendingChange",
    "PortalAccount",
    "PortalField",
    "PortalSettings",
    "Prescription",
    "Product",
    "ProductLimit",
    "ProductStatus",
    "Provider",
    "Record",
    "RecordKind",
    "RequestEvent",
    "RequestField",
    "RequestType",
    "Review",
    "ReviewRequest",
    "Role",
    "RunStatus",
    "ScheduledAction",
    "SessionStatus",
    "SignField",
    "SignFieldKind",
    "SignInSession",
    "SignRequest",
    "SignRequestSigner",
    "SignRequestStatus",
    "SignTemplate",
    "SignatureStyle",
    "SignerRole",
    "SignerStatus",
    "StaffRole",
    "StepKind",
    "Survey",
    "SurveyQuestion",
    "SurveyResponse",
    "Tag",
    "Task",
    "TaskKind",
    "Team",
    "TimestampMixin",
    "UTCDateTime",
    "User",
    "WebAuthn",
    "Workflow",
    "WorkflowAction",
    "WorkflowRun",
    "certificate_master_products",
    "db",
    "record_tags",
    "utcnow",
]
