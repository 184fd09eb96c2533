"""The module sizes the catch-up function from `expected_live_events` (lambda.tf's sizing locals,
the arithmetic in the module README's "Sizing"), computed by Terraform itself: memory buys CPU
per 500,000 Events, the timeout follows the CPU share, ephemeral storage holds two archive
objects; explicit values win; the backfill adds memory for what it holds.
"""

from __future__ import annotations

import unittest

from test_module import NEEDS_TERRAFORM
from tf_module import FUNCTION_DIR, Module, evaluate_locals

MODULE = Module()


def sized(events: int, **extra: str) -> dict:
    values = evaluate_locals({"cluster_name": "prod", "expected_live_events": str(events), **extra})
    return {k: values[k] for k in ("catchup_memory_mb", "catchup_timeout", "catchup_ephemeral_mb")}


@NEEDS_TERRAFORM
class SizingFromLiveEvents(unittest.TestCase):
    def test_small_clusters_keep_the_old_defaults(self):
        for events in (0, 10_000, 100_000):
            self.assertEqual(sized(events), {"catchup_memory_mb": 256, "catchup_timeout": 300,
                                             "catchup_ephemeral_mb": 512}, events)

    def test_large_clusters_get_cpu_time_and_disk_for_their_object(self):
        one_million = sized(1_000_000)
        three_million = sized(3_000_000)
        self.assertEqual(one_million["catchup_memory_mb"], 512)
        self.assertEqual(three_million["catchup_memory_mb"], 1536)
        # Two objects of ~100 bytes per Event, plus room for the runtime.
        self.assertEqual(three_million["catchup_ephemeral_mb"], 637)
        self.assertGreaterEqual(three_million["catchup_ephemeral_mb"] * 1048576,
                                2 * 3_000_000 * 100)
        for size in (one_million, three_million):
            self.assertGreaterEqual(size["catchup_timeout"], 300)
            self.assertLessEqual(size["catchup_timeout"], 900)

    def test_limits_of_lambda_are_respected(self):
        huge = sized(20_000_000, backfill_log_group_name="g")
        self.assertEqual(huge, {"catchup_memory_mb": 10240, "catchup_timeout": 491,
                                "catchup_ephemeral_mb": 3879})

    def test_the_backfill_adds_a_kibibyte_per_event(self):
        self.assertEqual(sized(1_000_000, backfill_log_group_name="g")["catchup_memory_mb"],
                         512 + 977)
        self.assertEqual(sized(1_000_000, backfill_log_group_name="")["catchup_memory_mb"], 512)

    def test_explicit_values_win(self):
        self.assertEqual(sized(3_000_000, lambda_memory_mb="2048", lambda_timeout_seconds="600",
                               lambda_ephemeral_storage_mb="4096"),
                         {"catchup_memory_mb": 2048, "catchup_timeout": 600,
                          "catchup_ephemeral_mb": 4096})


class SizingIsWired(unittest.TestCase):
    def test_the_function_uses_the_sized_values(self):
        call = MODULE.call("catchup")
        self.assertEqual(call["memory_mb"], "${local.catchup_memory_mb}")
        self.assertEqual(call["timeout_seconds"], "${local.catchup_timeout}")
        self.assertEqual(call["ephemeral_storage_mb"], "${local.catchup_ephemeral_mb}")
        # ... and the submodule gives them to the function.
        function = Module(FUNCTION_DIR).resource("aws_lambda_function", "this")
        self.assertEqual(function["memory_size"], "${var.memory_mb}")
        self.assertEqual(function["timeout"], "${var.timeout_seconds}")
        self.assertEqual(function["dynamic"][0]["ephemeral_storage"]["content"][0]["size"],
                         "${ephemeral_storage.value}")
        self.assertEqual(function["dynamic"][0]["ephemeral_storage"]["for_each"],
                         "${var.ephemeral_storage_mb == null ? [] : [var.ephemeral_storage_mb]}")


if __name__ == "__main__":
    unittest.main()
