"""Performers: one small class per kind of effect, each able to find its effect before it acts."""

from klachtwacht.perform.base import EntryFacts, Job, MessageView, Performer
from klachtwacht.perform.letters import LetterPerformer, letter_message_id
from klachtwacht.perform.register import RegisterPerformer
from klachtwacht.perform.runner import CLAIM_SECONDS, perform_phase, work_off

__all__ = [
    "Job", "MessageView", "EntryFacts", "Performer", "LetterPerformer", "RegisterPerformer",
    "letter_message_id", "perform_phase", "work_off", "CLAIM_SECONDS",
]
