"""Test helpers shared by several suites (fake upstream servers, fixtures)."""
