// The bench's trace reader (see main.go); its one dependency is the trace store the Pulumi CLI
// (toolchain/pulumi/cli/go.mod) writes with.
module dot-ai-gateway/toolchain/bench/trace-summary

go 1.26.6

require github.com/pulumi/appdash v0.0.0-20231130102222-75f619a67231

require github.com/gogo/protobuf v1.3.2 // indirect
