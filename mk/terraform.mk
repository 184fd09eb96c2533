# Terraform module checks.
#
#   make terraform-check   terraform fmt (when terraform is on PATH), checkov on the module through
#                          the complete example (parse errors, failed checks and unexplained skips
#                          fail), the Logs Insights query checker's unit tests, and python-hcl2
#                          structural tests of the module (IAM against iam-actions.json, schedule,
#                          runtime, queries and dashboard against schema v1, Athena columns)
#
# checkov and python-hcl2 each bring a module named `hcl2` that the other overwrites: two venvs.

$(eval $(call venv,tf-checkov,'checkov==3.3.30'))
$(eval $(call venv,tf-hcl2,'python-hcl2==8.1.4'))

TF_DIR := infra/terraform
TF_PY := $(TOOLS)/tf-hcl2/bin/python

.PHONY: terraform-check

terraform-check: $(TOOLS)/tf-checkov/.installed $(TOOLS)/tf-hcl2/.installed
	@if command -v terraform >/dev/null; then \
	  printf 'disable_checkpoint = true\n' > $(TOOLS)/terraformrc; \
	  echo "terraform fmt -check -recursive $(TF_DIR)"; \
	  TF_CLI_CONFIG_FILE=$(TOOLS)/terraformrc terraform fmt -check -recursive -diff $(TF_DIR); \
	else \
	  echo "terraform-check: SKIPPED terraform fmt, the variable validation run and the evaluation of the locals (7 tests): no terraform binary on PATH"; \
	fi
	$(TF_PY) scripts/terraform/run_checkov.py --checkov $(TOOLS)/tf-checkov/bin/checkov $(TF_DIR)
	$(TF_PY) -m unittest discover -s scripts/terraform -p 'test_*.py'

TEST_TARGETS += terraform-check
