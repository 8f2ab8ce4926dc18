package main

import (
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"io"

	"github.com/pgtend/pgtend/ops/config"
)

func runConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("config needs a subcommand: show or check FILE")
	}
	switch args[0] {
	case "show":
		c := newFlags("pgtend config show", stderr)
		if err := c.parse(args[1:]); err != nil {
			return err
		}
		t, err := c.resolve()
		if err != nil {
			return err
		}
		return t.policy.Encode(stdout)
	case "check":
		if len(args) != 2 {
			return usageError("usage: pgtend config check FILE")
		}
		cfg, err := config.LoadFile(args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok (%s, %s)\n", args[1], text.Plural(len(cfg.Policy.Tables), "table"), text.Plural(len(cfg.Targets), "target"))
		return nil
	default:
		return usageError("unknown config subcommand %q: use show or check FILE", args[0])
	}
}
