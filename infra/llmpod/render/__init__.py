"""`llmpod render`: run the real Pulumi program under Pulumi's mock engine and
write what it registered, for GitOps and review, without a cluster or the CLI."""
