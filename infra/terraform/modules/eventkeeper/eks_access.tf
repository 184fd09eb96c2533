# How the function is allowed into the cluster: an EKS access entry maps its role to the
# Kubernetes group the Helm chart's catch-up RBAC binds (catchUpAccess.group): events get/list,
# and get/update on the emitter's Lease. The cluster's authentication mode must include API
# (API or API_AND_CONFIG_MAP).

resource "aws_eks_access_entry" "catchup" {
  count             = var.create_access_entry ? 1 : 0
  cluster_name      = var.cluster_name
  principal_arn     = module.catchup.role_arn
  type              = "STANDARD"
  kubernetes_groups = [var.kubernetes_group]
  tags              = var.tags
}

# Optional: read-only access without the chart's RBAC (no Lease access, so no backfill).
resource "aws_eks_access_policy_association" "view" {
  count         = var.create_access_entry && var.associate_view_policy ? 1 : 0
  cluster_name  = var.cluster_name
  principal_arn = module.catchup.role_arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"

  access_scope {
    type = "cluster"
  }

  depends_on = [aws_eks_access_entry.catchup]
}
