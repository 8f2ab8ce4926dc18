package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Feature names: model v3.2 uses the first 24, v4.1 all 32, and v5.0-embed
// (one row in 40) adds 256 embedding dimensions: some 7 kB of jsonb that
// stays over 2 kB even compressed, so those rows go out of line to TOAST, as
// real feature stores' wide rows do. v4.1 replaced v3.2 100 days before Now.
var baseFeatures = []string{
	"ret_1m", "ret_5m", "ret_15m", "ret_1h", "ret_4h", "ret_1d", "vol_5m", "vol_1h",
	"vol_1d", "rsi_14", "macd", "macd_signal", "bb_width", "atr_14", "obv_z", "vwap_dev",
	"iv_rank", "iv_percentile", "skew_25d", "term_slope", "put_call_ratio", "oi_change", "gamma_exposure", "vix_level",
	"vix_term_ratio", "spread_bps", "depth_imbalance", "trade_imbalance", "news_sentiment", "news_count", "beta_spy", "corr_qqq",
}

const (
	embeddingDims = 256
	v32Features   = 24
	v32Until      = 100 * day // before Now
)

var featureColumns = []string{"timestamp", "exchange", "symbol", "model_version", "features", "label"}

// appendFeatureDay appends, as COPY text lines, day d's perDay feature rows,
// spread evenly with jitter over the part of the day inside the span. Each
// day draws from its own seeded generator, so a day's rows are the same
// whichever batch or session writes it. Rows are computed here for the same
// reason as the option chains (copyDays): built by the server, with
// jsonb_object_agg and a numeric per feature, they took seconds.
func appendFeatureDay(buf []byte, sp span, d, perDay int) []byte {
	lo, hi, ok := sp.dayBounds(d)
	if !ok {
		return buf
	}
	rng := rand.New(rand.NewPCG(uint64(d), 0x6d6c))
	for i := range perDay {
		ts := lo.Add(time.Duration(float64(hi.Sub(lo)) * (float64(i) + rng.Float64()) / float64(perDay))).Truncate(time.Microsecond)
		if !ts.Before(hi) {
			ts = hi.Add(-time.Microsecond)
		}
		k := i % len(symbols)
		version, n := "v4.1", len(baseFeatures)
		switch {
		case i%40 == 39:
			version, n = "v5.0-embed", len(baseFeatures)+embeddingDims
		case ts.Before(sp.end.Add(-v32Until)):
			version, n = "v3.2", v32Features
		}
		buf = appendTimestamp(buf, ts)
		buf = append(buf, '\t')
		buf = append(buf, exchanges[(i/len(symbols))%len(exchanges)]...)
		buf = append(buf, '\t')
		buf = append(buf, symbols[k].name...)
		buf = append(buf, '\t')
		buf = append(buf, version...)
		buf = append(buf, "\t{"...)
		x := ts.Sub(sp.firstDay).Hours() / 24
		for f := range n {
			if f > 0 {
				buf = append(buf, ", "...)
			}
			buf = append(buf, '"')
			if f < len(baseFeatures) {
				buf = append(buf, baseFeatures[f]...)
			} else {
				buf = fmt.Appendf(buf, "emb_%03d", f-len(baseFeatures))
			}
			buf = append(buf, "\": "...)
			// Indicators drift with the symbol's market; embeddings are
			// anything in [-1, 1].
			v := rng.Float64()*2 - 1
			if f < len(baseFeatures) {
				v = 0.8*math.Sin(x/7+float64(k+f)) + 0.2*v
			}
			buf = appendFixed(buf, v, 4)
		}
		buf = append(buf, "}\t"...)
		buf = strconv.AppendFloat(buf, math.Round((rng.Float64()-0.5)*0.04*1e6)/1e6, 'g', -1, 64)
		buf = append(buf, '\n')
	}
	return buf
}
