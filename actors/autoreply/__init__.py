"""The auto-reply: a knowledge base of questions and answers, the engine that
matches them, what supervisors teach it, and the inbox of what it missed."""

from actors.autoreply.engine import AutoReply, AutoReplyResult, Scored
from actors.autoreply.inbox import Inbox
from actors.autoreply.knowledge import Entry, Knowledge, knowledge_from_config, load_knowledge
from actors.autoreply.lessons import Lessons

__all__ = ["AutoReply", "AutoReplyResult", "Entry", "Inbox", "Knowledge", "Lessons", "Scored",
           "knowledge_from_config", "load_knowledge"]
