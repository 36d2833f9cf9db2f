package main

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

func TestGenerateHonorsLengthAndClasses(t *testing.T) {
	s := spec{length: 48, lower: true, upper: true, numeric: true}
	for range 20 {
		v, err := generate(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 48 || strings.Trim(v, lowerChars+upperChars+numericChars) != "" {
			t.Fatalf("got %q", v)
		}
	}
}

func TestGenerateMinimumsAndOverride(t *testing.T) {
	s := spec{length: 6, numeric: true, special: true, minNumeric: 3, minSpecial: 3, overrideSpecial: "#"}
	v, err := generate(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(v, "#") != 3 || len(strings.Trim(v, numericChars+"#")) != 0 {
		t.Fatalf("got %q", v)
	}
	if _, err := generate(spec{length: 2, lower: true, minLower: 3}); err == nil {
		t.Fatal("minimums above length must fail")
	}
}

func TestCheckDefaultsAndFailures(t *testing.T) {
	in := resource.PropertyMap{
		"length":  resource.NewNumberProperty(48),
		"special": resource.NewBoolProperty(false),
		"keepers": resource.NewObjectProperty(resource.PropertyMap{"rotation": resource.NewStringProperty("a")}),
	}
	out, failures := checkInputs(in)
	if len(failures) > 0 {
		t.Fatal(failures)
	}
	for k, want := range map[resource.PropertyKey]any{
		"lower": true, "upper": true, "numeric": true, "number": true, "special": false,
		"minLower": 0.0, "minUpper": 0.0, "minNumeric": 0.0, "minSpecial": 0.0, "length": 48.0,
	} {
		if !out[k].DeepEquals(resource.NewPropertyValue(want)) {
			t.Errorf("%s = %v, want %v", k, out[k], want)
		}
	}
	s, err := specFromInputs(out)
	if err != nil || s.special || !s.numeric || s.length != 48 {
		t.Fatalf("spec %+v, %v", s, err)
	}

	for name, bad := range map[string]resource.PropertyMap{
		"missing length": {},
		"zero length":    {"length": resource.NewNumberProperty(0)},
		"minimums":       {"length": resource.NewNumberProperty(2), "minUpper": resource.NewNumberProperty(3)},
		"no classes": {"length": resource.NewNumberProperty(2), "lower": resource.NewBoolProperty(false),
			"upper": resource.NewBoolProperty(false), "numeric": resource.NewBoolProperty(false),
			"special": resource.NewBoolProperty(false)},
		"unknown property": {"length": resource.NewNumberProperty(2), "bogus": resource.NewBoolProperty(true)},
	} {
		if _, failures := checkInputs(bad); len(failures) == 0 {
			t.Errorf("%s: no check failure", name)
		}
	}
}

func TestBcryptHashLongValue(t *testing.T) {
	if _, err := bcryptHash(strings.Repeat("a", 100)); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaIsJSON(t *testing.T) {
	s, err := schemaJSON()
	if err != nil || !strings.Contains(s, passwordType) {
		t.Fatalf("%v %s", err, s)
	}
}
