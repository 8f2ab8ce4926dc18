package demo

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// archiveFile is one file of the directories the policy archives, with the
// age it is given (its modification time), so some are old enough to
// archive and some are not.
type archiveFile struct {
	name string
	age  time.Duration
	size int
}

// Models are retrained now and then; the older versions stay on disk.
var modelFiles = []archiveFile{
	{"vol_surface_v3.2.pkl", 150 * day, 96 << 10},
	{"vol_surface_v4.1.pkl", 100 * day, 112 << 10},
	{"feature_embedder_v5.0.onnx", 20 * day, 160 << 10},
}

// writeArchiveFiles fills models/ with model files and trade_logs/ with the
// last six months' trade logs, one CSV a month.
func writeArchiveFiles(models, tradeLogs string, now time.Time) error {
	// Fixed seeds: the same bytes every run, and incompressible, like the
	// serialized weights they stand for.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range modelFiles {
		b := make([]byte, m.size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if err := writeAged(filepath.Join(models, m.name), b, now.Add(-m.age)); err != nil {
			return err
		}
	}
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := 6; i >= 1; i-- {
		month := first.AddDate(0, -i, 0)
		name := "trades_" + month.Format("2006-01") + ".csv"
		// Last written in the month's last hour: the month's archive takes it.
		if err := writeAged(filepath.Join(tradeLogs, name), tradeLog(month, rng), month.AddDate(0, 1, 0).Add(-time.Hour)); err != nil {
			return err
		}
	}
	return nil
}

// tradeLog is a month's execution log as a gateway writes it, a few
// hundred lines.
func tradeLog(month time.Time, rng *rand.Rand) []byte {
	var b strings.Builder
	b.WriteString("executed_at,symbol,side,quantity,price,strategy\n")
	strategies := []string{"iron_condor", "momentum", "mean_reversion", "vol_arb", "gamma_scalp"}
	days := month.AddDate(0, 1, 0).Sub(month).Hours() / 24
	for i := range 300 {
		at := month.Add(time.Duration((float64(i) + rng.Float64()) / 300 * days * float64(day)))
		k := rng.IntN(len(symbols))
		x := at.Sub(month).Hours() / 24
		side := "buy"
		if rng.IntN(2) == 1 {
			side = "sell"
		}
		fmt.Fprintf(&b, "%s,%s,%s,%d,%.4f,%s\n", at.UTC().Format(time.RFC3339), symbols[k].name, side,
			1+rng.IntN(200), spot(k, x), strategies[rng.IntN(len(strategies))])
	}
	return []byte(b.String())
}

func writeAged(path string, data []byte, mtime time.Time) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	return os.Chtimes(path, mtime, mtime)
}
