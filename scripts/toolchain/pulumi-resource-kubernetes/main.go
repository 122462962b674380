// Command pulumi-resource-kubernetes is the Pulumi Kubernetes provider, built by
// llmpod's scripts/install_pulumi_toolchain.sh from the provider's Go module.
//
// The upstream command embeds a package schema and a Terraform mapping that its
// release build generates; those generated files are not part of the module
// zip, so the install script writes them next to this file (from the schema.json
// and terraform-mapping.json the module does ship, with the release version set)
// before `go build`. Everything else is the provider's own code.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var packageSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, packageSchema, terraformMapping)
}
