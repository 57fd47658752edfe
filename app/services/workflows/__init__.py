"""Automated workflows: who matches, when runs start and stop, and how due actions fire.

* Matching is a SQL condition (:mod:`.matching`): record kind, a product of the given status
  and coverage type, a tag. Services call :func:`evaluate` after anything that may change a
  match (a product saved, a tag added or removed, a record created or converted, in bulk too).
* A record that starts matching an active workflow gets one run (:mod:`.runs`); each action of
  the workflow becomes a :class:`~models.ScheduledAction` row due at run start + delay, moved
  into the sending window (:mod:`.timing`). It does not start again while a run is going, nor
  until it has stopped matching and matches anew. With "stop when no longer matching", the
  change that breaks the match cancels what is left, and each action re-checks the match when
  it fires.
* What an action does is its kind's class in :mod:`.actions`, a registry found by
  :class:`~models.ActionKind`: its settings, their checks, its description and how it is done.
* Staff changes (:mod:`.editing`): one call per intent (:func:`save`, :func:`copy_workflow`,
  :func:`start_for_matching`) that decides what follows and logs it.
* Rows are the truth (:mod:`.firing`): the sweeper enqueues :func:`jobs.workflows.run_due`,
  which claims due rows in batches and executes each in the same transaction that marks it
  done; :func:`release_stale_claims` hands back what a killed worker held.
* :mod:`.preview` works out what a bulk tag change would do; :mod:`.descriptions` puts
  workflows and their schedule in words for staff.
"""

from __future__ import annotations

from app.services.workflows.actions import (
    REGISTRY,
    ActionType,
    action_type,
    describe,
    setting_help,
    template_names_by_key,
)
from app.services.workflows.descriptions import (
    Overview,
    describe_conditions,
    missing_template_warnings,
    next_due,
    overview,
    running_count,
    runs_of,
    template_choices,
    window_text,
)
from app.services.workflows.editing import (
    Saved,
    apply_to_running,
    check_action,
    check_workflow,
    copy_workflow,
    log_change,
    prepare_save,
    save,
    start_for_matching,
)
from app.services.workflows.firing import (
    DATABASE_DOWN,
    MAX_ATTEMPTS,
    STALE_CLAIM,
    LostClaim,
    claim_due,
    execute,
    execute_batch,
    hand_back,
    has_due,
    record_failure,
    release_stale_claims,
)
from app.services.workflows.matching import matches, matching_ids, matching_query
from app.services.workflows.preview import DryRun, dry_run_tag_change
from app.services.workflows.runs import (
    SWITCHED_OFF,
    Evaluation,
    cancel_action,
    cancel_run,
    evaluate,
    stop_runs,
)
from app.services.workflows.timing import MAX_DELAY, add_delay, in_window

__all__ = [
    "DATABASE_DOWN",
    "MAX_ATTEMPTS",
    "MAX_DELAY",
    "REGISTRY",
    "STALE_CLAIM",
    "SWITCHED_OFF",
    "ActionType",
    "DryRun",
    "Evaluation",
    "LostClaim",
    "Overview",
    "Saved",
    "action_type",
    "add_delay",
    "apply_to_running",
    "cancel_action",
    "cancel_run",
    "check_action",
    "check_workflow",
    "claim_due",
    "copy_workflow",
    "describe",
    "describe_conditions",
    "dry_run_tag_change",
    "evaluate",
    "execute",
    "execute_batch",
    "hand_back",
    "has_due",
    "in_window",
    "log_change",
    "matches",
    "matching_ids",
    "matching_query",
    "missing_template_warnings",
    "next_due",
    "overview",
    "prepare_save",
    "record_failure",
    "release_stale_claims",
    "running_count",
    "runs_of",
    "save",
    "setting_help",
    "start_for_matching",
    "stop_runs",
    "template_choices",
    "template_names_by_key",
    "window_text",
]
