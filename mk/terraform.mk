# Terraform module checks.
#
#   make terraform-check   terraform fmt (when terraform is on PATH), checkov on the module through
#                          the complete example (parse errors, failed checks and unexplained skips
#                          fail), the Logs Insights query checker's unit tests, and python-hcl2
#                          structural tests of the module (IAM against iam-actions.json, schedule,
#                          runtime, queries and dashboard against schema v1, Athena columns)
#   make terraform-upgrade-check TF_PLUGIN_DIR=DIR   (not in `make test`: ~2 min, and needs the
#                          AWS provider in DIR) both complete examples as they were before the
#                          lambda-function submodule applied against moto, then this tree's
#                          planned on that state: nothing destroyed, every moved resource moved
#
# checkov and python-hcl2 each bring a module named `hcl2` that the other overwrites: two venvs.

$(eval $(call venv,tf-checkov,'checkov==3.3.30'))
$(eval $(call venv,tf-hcl2,'python-hcl2==8.1.4'))

TF_DIR := infra/terraform
TF_PY := $(TOOLS)/tf-hcl2/bin/python

# A recipe step: terraform fmt -check of the folder $(1), or, with no terraform binary on PATH,
# one visible line `<target>: SKIPPED $(2): ...` naming what that leaves unchecked.
define terraform_fmt_check
	@if command -v terraform >/dev/null; then \
	  printf 'disable_checkpoint = true\n' > $(TOOLS)/terraformrc; \
	  echo "terraform fmt -check -recursive $(1)"; \
	  TF_CLI_CONFIG_FILE=$(TOOLS)/terraformrc terraform fmt -check -recursive -diff $(1); \
	else \
	  echo "$@: SKIPPED $(2): no terraform binary on PATH"; \
	fi
endef
TF_SKIPPED_WITHOUT_BINARY := terraform fmt, the variable validation run and the evaluation of the locals (7 tests)

.PHONY: terraform-check

terraform-check: $(TOOLS)/tf-checkov/.installed $(TOOLS)/tf-hcl2/.installed
	$(call terraform_fmt_check,$(TF_DIR),$(TF_SKIPPED_WITHOUT_BINARY))
	$(TF_PY) scripts/terraform/run_checkov.py --checkov $(TOOLS)/tf-checkov/bin/checkov $(TF_DIR)
	$(TF_PY) -m unittest discover -s scripts/terraform -p 'test_*.py'

TEST_TARGETS += terraform-check

.PHONY: terraform-upgrade-check

# TF_PLUGIN_DIR: a directory with the AWS provider for `terraform init -plugin-dir`
# (registry.terraform.io/hashicorp/aws/VERSION/OS_ARCH/...); no registry is reachable here.
terraform-upgrade-check: $(TOOLS)/moto/.installed
	@test -n "$(TF_PLUGIN_DIR)" || { echo "$@: set TF_PLUGIN_DIR to a directory with the AWS provider"; exit 64; }
	python3 scripts/terraform/upgrade_check.py --plugin-dir $(TF_PLUGIN_DIR) --moto-server $(MOTO_SERVER)
