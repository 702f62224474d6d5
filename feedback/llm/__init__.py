"""Per-question LLM review: prompts, one client factory, cache, exchange log, quote verification, redaction.

Only :mod:`feedback.llm.client` imports ``openai``; nothing here is imported by ``feedback check``.
"""
