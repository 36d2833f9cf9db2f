package main

import (
	"fmt"
	"math"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The input properties of RandomPassword and RandomString: the same names, types and defaults as
// the real provider's (see the @pulumi/random SDK), so a program and its state look the same with
// either provider.

type kind int

const (
	kindInteger kind = iota
	kindBoolean
	kindString
	kindStringMap
)

type inputProperty struct {
	name        string
	kind        kind
	def         any     // applied by Check when the program leaves the property out; nil: no default
	min         float64 // smallest allowed value of an integer property
	required    bool
	description string
}

var inputProperties = []inputProperty{
	{name: "keepers", kind: kindStringMap,
		description: "Arbitrary map of values that, when changed, will trigger recreation of the resource."},
	{name: "length", kind: kindInteger, min: 1, required: true,
		description: "The length of the value. At least 1, and at least minUpper + minLower + minNumeric + minSpecial."},
	{name: "lower", kind: kindBoolean, def: true, description: "Include lowercase alphabet characters."},
	{name: "minLower", kind: kindInteger, def: 0.0, description: "Minimum number of lowercase alphabet characters."},
	{name: "minNumeric", kind: kindInteger, def: 0.0, description: "Minimum number of numeric characters."},
	{name: "minSpecial", kind: kindInteger, def: 0.0, description: "Minimum number of special characters."},
	{name: "minUpper", kind: kindInteger, def: 0.0, description: "Minimum number of uppercase alphabet characters."},
	{name: "number", kind: kindBoolean, def: true, description: "Deprecated alias of numeric; the two always agree."},
	{name: "numeric", kind: kindBoolean, def: true, description: "Include numeric characters."},
	{name: "overrideSpecial", kind: kindString,
		description: "Special characters to use in place of the default ones (special must still be true)."},
	{name: "special", kind: kindBoolean, def: true, description: "Include special characters: !@#$%&*()-_=+[]{}<>:?"},
	{name: "upper", kind: kindBoolean, def: true, description: "Include uppercase alphabet characters."},
}

// Output-only properties.
const (
	resultKey     = resource.PropertyKey("result")
	bcryptHashKey = resource.PropertyKey("bcryptHash")
)

func lookupInput(name string) (inputProperty, bool) {
	for _, p := range inputProperties {
		if p.name == name {
			return p, true
		}
	}
	return inputProperty{}, false
}

// peel looks through secret and output wrappers: it returns the plain value inside v, whether any
// wrapper was secret, and whether the value is known.
func peel(v resource.PropertyValue) (inner resource.PropertyValue, secret, known bool) {
	for {
		switch {
		case v.IsSecret():
			secret = true
			v = v.SecretValue().Element
		case v.IsComputed():
			return v, secret, false
		case v.IsOutput():
			o := v.OutputValue()
			secret = secret || o.Secret
			if !o.Known {
				return v, secret, false
			}
			v = o.Element
		default:
			return v, secret, true
		}
	}
}

// plain returns v with every secret and known-output wrapper removed, recursively, so that two
// values compare equal when only their secretness differs.
func plain(v resource.PropertyValue) resource.PropertyValue {
	inner, _, known := peel(v)
	if !known {
		return inner
	}
	switch {
	case inner.IsObject():
		m := resource.PropertyMap{}
		for k, e := range inner.ObjectValue() {
			m[k] = plain(e)
		}
		return resource.NewObjectProperty(m)
	case inner.IsArray():
		a := make([]resource.PropertyValue, len(inner.ArrayValue()))
		for i, e := range inner.ArrayValue() {
			a[i] = plain(e)
		}
		return resource.NewArrayProperty(a)
	}
	return inner
}

func failure(property, format string, args ...any) *pulumirpc.CheckFailure {
	return &pulumirpc.CheckFailure{Property: property, Reason: fmt.Sprintf(format, args...)}
}

// checkInputs validates the program's inputs and returns them with the defaults applied. Unknown
// values (during a preview) pass unchecked; secret values keep their secretness.
func checkInputs(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	var failures []*pulumirpc.CheckFailure
	out := resource.PropertyMap{}
	for _, k := range news.StableKeys() {
		if _, ok := lookupInput(string(k)); !ok && !resource.IsInternalPropertyKey(k) {
			failures = append(failures, failure(string(k), "unknown property %q", k))
		}
	}
	for _, p := range inputProperties {
		k := resource.PropertyKey(p.name)
		v, ok := news[k]
		if !ok || v.IsNull() {
			if p.required {
				failures = append(failures, failure(p.name, "Missing required property '%s'", p.name))
			} else if p.def != nil {
				out[k] = resource.NewPropertyValue(p.def)
			}
			continue
		}
		out[k] = v
		inner, _, known := peel(v)
		if !known {
			continue
		}
		switch p.kind {
		case kindInteger:
			if !inner.IsNumber() || inner.NumberValue() != math.Trunc(inner.NumberValue()) {
				failures = append(failures, failure(p.name, "%s must be an integer", p.name))
			} else if inner.NumberValue() < p.min {
				failures = append(failures, failure(p.name, "%s must be at least %v", p.name, p.min))
			}
		case kindBoolean:
			if !inner.IsBool() {
				failures = append(failures, failure(p.name, "%s must be a boolean", p.name))
			}
		case kindString:
			if !inner.IsString() {
				failures = append(failures, failure(p.name, "%s must be a string", p.name))
			}
		case kindStringMap:
			if !inner.IsObject() {
				failures = append(failures, failure(p.name, "%s must be a map of strings", p.name))
			}
		}
	}
	if len(failures) > 0 {
		return nil, failures
	}

	// numeric and its deprecated alias number always agree: one set by the program decides both.
	numeric, numericSet := knownBool(news, "numeric")
	number, numberSet := knownBool(news, "number")
	switch {
	case numericSet && numberSet && numeric != number:
		failures = append(failures, failure("numeric", "numeric and its deprecated alias number must agree"))
	case numericSet:
		out["number"] = news["numeric"]
	case numberSet:
		out["numeric"] = news["number"]
	}

	// length must leave room for the minimum counts; some character class must be enabled.
	if length, ok := knownNumber(out, "length"); ok {
		sum, allKnown := 0.0, true
		for _, k := range []resource.PropertyKey{"minLower", "minUpper", "minNumeric", "minSpecial"} {
			n, ok := knownNumber(out, k)
			allKnown = allKnown && ok
			sum += n
		}
		if allKnown && length < sum {
			failures = append(failures, failure("length",
				"length (%v) must be at least minUpper + minLower + minNumeric + minSpecial (%v)", length, sum))
		}
	}
	anyEnabled, allKnown := false, true
	for _, k := range []resource.PropertyKey{"lower", "upper", "numeric", "special"} {
		b, ok := knownBool(out, k)
		allKnown = allKnown && ok
		anyEnabled = anyEnabled || b
	}
	if allKnown && !anyEnabled {
		failures = append(failures, failure("", "at least one of lower, upper, numeric and special must be true"))
	}
	if len(failures) > 0 {
		return nil, failures
	}
	return out, nil
}

// withDefaults returns props with the defaults filled in where a property is missing; Diff uses it
// so that a state written without explicit defaults compares equal to checked inputs.
func withDefaults(props resource.PropertyMap) resource.PropertyMap {
	out := props.Copy()
	for _, p := range inputProperties {
		k := resource.PropertyKey(p.name)
		if v, ok := out[k]; (!ok || v.IsNull()) && p.def != nil {
			out[k] = resource.NewPropertyValue(p.def)
		}
	}
	return out
}

func knownBool(props resource.PropertyMap, k resource.PropertyKey) (bool, bool) {
	v, ok := props[k]
	if !ok {
		return false, false
	}
	inner, _, known := peel(v)
	if !known || !inner.IsBool() {
		return false, false
	}
	return inner.BoolValue(), true
}

func knownNumber(props resource.PropertyMap, k resource.PropertyKey) (float64, bool) {
	v, ok := props[k]
	if !ok {
		return 0, false
	}
	inner, _, known := peel(v)
	if !known || !inner.IsNumber() {
		return 0, false
	}
	return inner.NumberValue(), true
}

// specFromInputs reads checked, fully known inputs into a generator spec.
func specFromInputs(props resource.PropertyMap) (spec, error) {
	var s spec
	ints := map[resource.PropertyKey]*int{
		"length": &s.length, "minLower": &s.minLower, "minUpper": &s.minUpper,
		"minNumeric": &s.minNumeric, "minSpecial": &s.minSpecial,
	}
	for k, dst := range ints {
		n, ok := knownNumber(props, k)
		if !ok {
			return spec{}, fmt.Errorf("%s is not a known number", k)
		}
		*dst = int(n)
	}
	bools := map[resource.PropertyKey]*bool{
		"lower": &s.lower, "upper": &s.upper, "numeric": &s.numeric, "special": &s.special,
	}
	for k, dst := range bools {
		b, ok := knownBool(props, k)
		if !ok {
			return spec{}, fmt.Errorf("%s is not a known boolean", k)
		}
		*dst = b
	}
	if v, ok := props["overrideSpecial"]; ok && !v.IsNull() {
		inner, _, known := peel(v)
		if !known || !inner.IsString() {
			return spec{}, fmt.Errorf("overrideSpecial is not a known string")
		}
		s.overrideSpecial = inner.StringValue()
	}
	return s, nil
}

// schemaProperty is the Pulumi package schema of one property.
func schemaProperty(p inputProperty) map[string]any {
	m := map[string]any{"description": p.description}
	switch p.kind {
	case kindInteger:
		m["type"] = "integer"
	case kindBoolean:
		m["type"] = "boolean"
	case kindString:
		m["type"] = "string"
	case kindStringMap:
		m["type"] = "object"
		m["additionalProperties"] = map[string]any{"type": "string"}
	}
	if p.name == "number" {
		m["deprecationMessage"] = "Use numeric instead."
	}
	return m
}
