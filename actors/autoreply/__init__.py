"""The auto-reply: a knowledge base of questions and answers, and the engine that matches them."""

from actors.autoreply.engine import AutoReply, AutoReplyResult
from actors.autoreply.knowledge import Entry, Knowledge, knowledge_from_config, load_knowledge

__all__ = ["AutoReply", "AutoReplyResult", "Entry", "Knowledge", "knowledge_from_config",
           "load_knowledge"]
