"""Rules of Logs Insights the query checker enforces beyond field names (see logs_insights.py)."""

import unittest
from pathlib import Path

from logs_insights import Schema, check

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Schema.load(ROOT / "docs/schema/event-v1.json")


class OnlyLimitAfterDedup(unittest.TestCase):
    def test_dedup_last_or_before_limit(self):
        self.assertEqual(check("sort effectiveTime desc | dedup metadata.uid, metadata.resourceVersion",
                               SCHEMA, ""), [])
        self.assertEqual(check("sort effectiveTime desc | dedup metadata.uid | limit 10", SCHEMA, ""), [])

    def test_anything_else_after_dedup_is_an_error(self):
        problems = check("dedup metadata.uid | sort effectiveTime desc", SCHEMA, "")
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("only limit may follow dedup", problems[0])
        self.assertTrue(check("dedup metadata.uid | limit 5 | filter reason = \"x\"", SCHEMA, ""))

    def test_dedup_fields_are_checked_under_the_prefix(self):
        self.assertEqual(check("dedup data.metadata.uid, data.metadata.resourceVersion", SCHEMA, "data."), [])
        self.assertTrue(check("dedup metadata.uid, metadata.resourceVersion", SCHEMA, "data."))


if __name__ == "__main__":
    unittest.main()
