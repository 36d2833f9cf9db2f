// Command pulumi-resource-kubernetes is the Pulumi Kubernetes provider, built from the Go module
// github.com/pulumi/pulumi-kubernetes/provider/v4 (version pinned in go.mod).
//
// This is the upstream cmd/pulumi-resource-kubernetes main, restated here because that main
// embeds two files that are not in the module: schema-embed.json and terraform-mapping-embed.json.
// Upstream makes them before building by running its generate.go (`//go:build ignore`, next to
// its main.go), which reads the committed schema.json and terraform-mapping.json, stamps the
// provider version into the schema and writes the two *-embed.json files. build-pulumi.sh does the
// same here: it copies those two committed inputs from the module cache into this directory and
// runs that same upstream generate.go (from the module cache, unmodified) with VERSION set, so
// the embedded schema is exactly what the upstream build would embed. The generated files are
// build outputs (see .gitignore), never committed.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
