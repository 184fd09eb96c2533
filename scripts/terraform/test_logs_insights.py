"""Unit tests of the Logs Insights query checker: it accepts good queries and rejects bad ones."""

import re
import unittest
from pathlib import Path

from logs_insights import Schema, check, tokenize

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Schema.load(ROOT / "docs/schema/event-v1.json")

GOOD = """
fields @timestamp, log_processed.type as type, log_processed.reason as reason,
       log_processed.involvedObject.name as object
| filter ispresent(log_processed.schemaVersion) and log_processed.type = "Warning"
| filter kubernetes.container_name = "emitter"
| sort @timestamp desc
| limit 100
"""


def guide_first_query() -> str:
    """The first query of docs/log-pipeline.md, as a user copies it."""
    text = (ROOT / "docs/log-pipeline.md").read_text()
    after = text[text.index("First query"):]
    start = after.index("```\n") + 4
    return after[start:after.index("```", start)]


def notes_first_query() -> str:
    """The query the chart's NOTES.txt prints after install (template values filled in)."""
    text = (ROOT / "charts/eventkeeper/templates/NOTES.txt").read_text()
    block = text[text.index("FIRST QUERY"):].split("\n\n")[1]
    return re.sub(r"\{\{[^}]*\}\}", "demo", block)


class CheckerAcceptsRealQueries(unittest.TestCase):
    def test_a_query_with_shipper_fields(self):
        self.assertEqual(check(GOOD, SCHEMA, "log_processed."), [])

    def test_the_log_pipeline_guides_first_query(self):
        query = guide_first_query()
        self.assertIn("log_processed.schemaVersion", query)
        self.assertEqual(check(query, SCHEMA, "log_processed."), [])

    def test_the_charts_notes_query(self):
        query = notes_first_query()
        self.assertIn("log_processed.schemaVersion", query)
        self.assertEqual(check(query, SCHEMA, "log_processed."), [])

    def test_vector_fields_at_the_top_level(self):
        query = ("fields @timestamp, type, reason, involvedObject.kind, involvedObject.name, message"
                 ' | filter type = "Warning" | sort @timestamp desc | limit 100')
        self.assertEqual(check(query, SCHEMA, ""), [])

    def test_stats_aliases_bins_and_nested_paths(self):
        query = """filter ispresent(data.schemaVersion)
        | stats sum(strcontains(data.type, "Warning")) as warnings, count(*) as total by bin(30m)
        | sort warnings desc"""
        self.assertEqual(check(query, SCHEMA, "data."), [])
        query = ("stats latest(reason) as r by metadata.uid, metadata.resourceVersion, "
                 "series.lastObservedTime, reporter.component, metadata.labels.app, truncated.fields.0")
        self.assertEqual(check(query, SCHEMA, ""), [])

    def test_parse_captures_become_fields(self):
        query = r"""filter reason = "FailedScheduling"
        | parse message /Insufficient (?<resource>[a-z.\/-]+)/
        | stats count(*) as n by resource"""
        self.assertEqual(check(query, SCHEMA, ""), [])

    def test_regex_and_in_lists(self):
        query = ('filter reason in ["Failed", "BackOff"] and message like /(?i)pull(ing)? image/'
                 " | display effectiveTime, message")
        self.assertEqual(check(query, SCHEMA, ""), [])


class CheckerRejectsBadQueries(unittest.TestCase):
    def test_a_field_that_is_not_in_the_schema(self):
        problems = check(GOOD.replace("involvedObject.name", "involvedObject.nmae"), SCHEMA,
                         "log_processed.")
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("involvedObject.nmae", problems[0])

    def test_a_field_in_a_stats_by_clause(self):
        problems = check("stats count(*) by namespace", SCHEMA, "")
        self.assertTrue(any("namespace" in p for p in problems), problems)

    def test_a_field_without_the_prefix(self):
        problems = check(GOOD, SCHEMA, "data.")
        self.assertTrue(problems)
        self.assertTrue(all("lacks the prefix" in p for p in problems), problems)

    def test_the_prefix_when_none_is_configured(self):
        self.assertTrue(check(GOOD, SCHEMA, ""))

    def test_a_map_only_below_its_key_and_a_plain_field_not_below_it(self):
        self.assertTrue(check("fields reason.code", SCHEMA, ""))
        self.assertTrue(check("fields metadata.generation", SCHEMA, ""))  # not declared
        self.assertEqual(check("fields metadata.annotations.team", SCHEMA, ""), [])

    def test_unbalanced_quotes_parens_and_regexes(self):
        self.assertIn("unbalanced", check('filter reason = "Failed', SCHEMA, "")[0])
        self.assertIn("unbalanced", check("filter ispresent(reason", SCHEMA, "")[0])
        self.assertIn("unbalanced", check("filter ispresent(reason))", SCHEMA, "")[0])
        self.assertIn("unbalanced", check("filter message like /pull", SCHEMA, "")[0])

    def test_unknown_commands_and_functions(self):
        self.assertIn("unknown command", check("fields reason | where reason = 1", SCHEMA, "")[0])
        self.assertIn("unknown function", check("stats median(count)", SCHEMA, "")[0])
        self.assertIn("empty command", check("fields reason |", SCHEMA, "")[0])

    def test_only_aggregates_and_groups_exist_after_stats(self):
        self.assertEqual(check("stats count(*) as n by reason | sort n desc | limit 5", SCHEMA, ""), [])
        self.assertEqual(check('stats count(*) as n by reason | filter reason = "x"', SCHEMA, ""), [])
        self.assertEqual(check("stats count(*) as n by involvedObject.name as o | sort o", SCHEMA, ""), [])
        problems = check("stats count(*) as n by reason | sort @timestamp desc", SCHEMA, "")
        self.assertIn("does not exist after stats", problems[0])
        self.assertTrue(check("stats count(*) by reason | display message", SCHEMA, ""))

    def test_unknown_cloudwatch_field(self):
        self.assertTrue(check("fields @timestmap", SCHEMA, ""))

    def test_bad_limit_and_parse(self):
        self.assertTrue(check("limit many", SCHEMA, ""))
        self.assertTrue(check("parse message /no captures/", SCHEMA, ""))


class Tokens(unittest.TestCase):
    def test_division_is_not_a_regex(self):
        kinds = [t.kind for t in tokenize("stats sum(count) / 2 as half")]
        self.assertNotIn("regex", kinds)

    def test_comments_are_skipped(self):
        self.assertEqual(check("# who failed\nfields reason", SCHEMA, ""), [])


if __name__ == "__main__":
    unittest.main()
