// Command pulumi-resource-random is a TEST STAND-IN for the Pulumi Random provider plugin, used only
// by this project's local sandbox and end-to-end tests (see README.md). It is not the real provider
// and is never used for real clusters, where Pulumi downloads the real plugin as usual.
//
// The real provider (github.com/pulumi/pulumi-random) cannot be built here because the Go module
// proxy does not serve it. This small gRPC resource provider, written on the Pulumi Go SDK, serves
// the one resource type the program uses, random:index/randomPassword:RandomPassword, and the
// trivially similar random:index/randomString:RandomString, with the real provider's input and
// output property names, defaults and replace-on-any-change behaviour.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is what GetPluginInfo reports, set at build time with
// -ldflags "-X main.version=4.21.2". It is set to the version of the real provider that the npm
// @pulumi/random SDK asks for ONLY so that the engine uses this binary in place of that
// unavailable plugin (on PATH any version is taken; installed in the plugin cache it is selected by
// this version); it says nothing about this code's relation to that release.
var version = "0.0.0-dev"

const (
	passwordType = "random:index/randomPassword:RandomPassword"
	stringType   = "random:index/randomString:RandomString"

	// The real provider gives every RandomPassword the ID "none"; a RandomString's ID is its result.
	passwordID = "none"
)

func main() {
	err := provider.Main("random", func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		p := &randomProvider{}
		p.acceptSecrets.Store(true)
		return p, nil
	})
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
}

type randomProvider struct {
	pulumirpc.UnimplementedResourceProviderServer

	// Whether the engine accepts secret values in responses. Engines that handshake always do;
	// older ones say so in Configure.
	acceptSecrets atomic.Bool
}

func (p *randomProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *randomProvider) Handshake(
	context.Context, *pulumirpc.ProviderHandshakeRequest,
) (*pulumirpc.ProviderHandshakeResponse, error) {
	// Answering the handshake also tells the engine this provider supports previews (Create with
	// preview set), which it handles by returning unknown outputs.
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true}, nil
}

func (p *randomProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	s, err := schemaJSON()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetSchemaResponse{Schema: s}, nil
}

// The provider has no configuration: any is accepted and none causes a diff.

func (p *randomProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *randomProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *randomProvider) Configure(
	_ context.Context, req *pulumirpc.ConfigureRequest,
) (*pulumirpc.ConfigureResponse, error) {
	p.acceptSecrets.Store(req.GetAcceptSecrets())
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *randomProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// resourceType returns the type token of a request, from its type field or else its URN, and
// fails for types this stand-in does not implement.
func resourceType(typ, urn string) (string, error) {
	if typ == "" {
		typ = string(resource.URN(urn).Type())
	}
	if typ != passwordType && typ != stringType {
		return "", status.Errorf(codes.Unimplemented,
			"resource type %q is not implemented by this test stand-in of the random provider "+
				"(only %s and %s are)", typ, passwordType, stringType)
	}
	return typ, nil
}

var unmarshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepOutputValues: true}

func (p *randomProvider) marshal(props resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(props, plugin.MarshalOptions{
		KeepUnknowns: true,
		KeepSecrets:  p.acceptSecrets.Load(),
	})
}

func (p *randomProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if _, err := resourceType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	inputs, failures := checkInputs(news)
	if len(failures) > 0 {
		return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
	}
	m, err := p.marshal(inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: m}, nil
}

// Diff: every input forces a replacement (the value is generated once, at creation), so any
// change of any input replaces the resource, creating the new one before deleting the old.
func (p *randomProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if _, err := resourceType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	var olds resource.PropertyMap
	var err error
	if req.GetOldInputs() != nil {
		olds, err = plugin.UnmarshalProperties(req.GetOldInputs(), unmarshalOpts)
	} else {
		olds, err = plugin.UnmarshalProperties(req.GetOlds(), unmarshalOpts)
		delete(olds, resultKey)
		delete(olds, bcryptHashKey)
	}
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	olds, news = withDefaults(olds), withDefaults(news)

	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	var changed []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for k := range keys {
		if resource.IsInternalPropertyKey(k) {
			continue
		}
		o, n := olds[k], news[k]
		if !n.ContainsUnknowns() && plain(o).DeepEquals(plain(n)) {
			continue
		}
		kind := pulumirpc.PropertyDiff_UPDATE_REPLACE
		switch {
		case o.IsNull():
			kind = pulumirpc.PropertyDiff_ADD_REPLACE
		case n.IsNull():
			kind = pulumirpc.PropertyDiff_DELETE_REPLACE
		}
		changed = append(changed, string(k))
		detailed[string(k)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	sort.Strings(changed)
	return &pulumirpc.DiffResponse{
		Changes:             pulumirpc.DiffResponse_DIFF_SOME,
		Replaces:            changed,
		Diffs:               changed,
		DetailedDiff:        detailed,
		HasDetailedDiff:     true,
		DeleteBeforeReplace: false,
	}, nil
}

func (p *randomProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	typ, err := resourceType(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	props, err := plugin.UnmarshalProperties(req.GetProperties(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	outs := props.Copy()

	if req.GetPreview() {
		unknown := resource.MakeComputed(resource.NewStringProperty(""))
		outs[resultKey] = unknown
		if typ == passwordType {
			outs[bcryptHashKey] = unknown
		}
		m, err := p.marshal(outs)
		if err != nil {
			return nil, err
		}
		return &pulumirpc.CreateResponse{Properties: m}, nil
	}

	s, err := specFromInputs(props)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.GetUrn(), err)
	}
	value, err := generate(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.GetUrn(), err)
	}

	id := value
	if typ == passwordType {
		// The password and its hash are secrets. The Node.js SDK marks them secret anyway
		// (additionalSecretOutputs), but they are already secret when they leave the provider.
		hash, err := bcryptHash(value)
		if err != nil {
			return nil, err
		}
		outs[resultKey] = resource.MakeSecret(resource.NewStringProperty(value))
		outs[bcryptHashKey] = resource.MakeSecret(resource.NewStringProperty(hash))
		id = passwordID
	} else {
		outs[resultKey] = resource.NewStringProperty(value)
	}
	m, err := p.marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: m}, nil
}

// Read (refresh) returns the state as it is: the value exists only in the state.
func (p *randomProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if _, err := resourceType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	if len(req.GetProperties().GetFields()) == 0 {
		return nil, status.Errorf(codes.Unimplemented,
			"%s: importing is not supported by this test stand-in of the random provider", req.GetUrn())
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Update is never called: Diff makes every change a replacement.
func (p *randomProvider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	return nil, status.Errorf(codes.Unimplemented,
		"%s: update is not supported; every change of a random resource replaces it", req.GetUrn())
}

// Delete has nothing to do: the value exists only in the state.
func (p *randomProvider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if _, err := resourceType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// schemaJSON is a minimal Pulumi package schema describing the two implemented resources.
func schemaJSON() (string, error) {
	resources := map[string]any{}
	for _, typ := range []string{passwordType, stringType} {
		inputs := map[string]any{}
		outputs := map[string]any{}
		required := []string{}
		for _, p := range inputProperties {
			inputs[p.name] = schemaProperty(p)
			outputs[p.name] = schemaProperty(p)
			if p.def != nil || p.required {
				required = append(required, p.name)
			}
		}
		result := map[string]any{"type": "string", "description": "The generated random value."}
		required = append(required, "result")
		if typ == passwordType {
			result["secret"] = true
			outputs["bcryptHash"] = map[string]any{
				"type": "string", "secret": true,
				"description": "A bcrypt hash of the generated value (of its first 72 bytes when longer).",
			}
			required = append(required, "bcryptHash")
		}
		outputs["result"] = result
		sort.Strings(required)
		resources[typ] = map[string]any{
			"description":     "Test stand-in: generates a random value once, at creation.",
			"inputProperties": inputs,
			"requiredInputs":  []string{"length"},
			"properties":      outputs,
			"required":        required,
		}
	}
	b, err := json.Marshal(map[string]any{
		"name":        "random",
		"version":     version,
		"description": "Test stand-in for the Pulumi Random provider (local sandbox and end-to-end tests only).",
		"resources":   resources,
	})
	return string(b), err
}
