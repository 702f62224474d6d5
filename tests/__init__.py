"""Tests for feedback; shared helpers live in conftest.py."""
