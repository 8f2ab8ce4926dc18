package main

import (
	"bytes"
	"testing"

	"github.com/pgtend/pgtend/ops/config"
)

// TestExamplePolicy: the policy the .deb and .rpm install as
// /etc/pgtend/pgtend.toml (packaging/pgtend.toml) is valid and, as its
// header tells the operator, is the built-in policy: installing the package
// changes nothing until the operator edits it.
func TestExamplePolicy(t *testing.T) {
	const path = "packaging/pgtend.toml"
	example, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(example.Targets) != 0 {
		t.Errorf("%s defines targets %v: the example's targets are comments", path, example.TargetNames())
	}
	encode := func(c *config.Config) string {
		p := c.Policy
		p.Source = ""
		var b bytes.Buffer
		if err := p.Encode(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got, want := encode(example), encode(config.Default()); got != want {
		t.Errorf("%s is not the built-in policy (ops/config/default.toml): bring its settings in step (keeping its comments)\n--- %s\n%s\n--- built-in\n%s", path, path, got, want)
	}
}
