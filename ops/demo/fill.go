package demo

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
)

// volume is how many rows a table gets per UTC day.
type volume struct {
	// share is the table's row volume relative to the others, as in the
	// production system: option chains dominate, trades are rare.
	share float64
	// unit rounds the daily count to whole groups (a chain snapshot, all
	// six symbols' bars, a full VIX curve) so every group is complete.
	unit int
	seed float64 // setseed value, so each table's rows stay the same whatever is filled before it
	sql  string
}

// rowsPerShare turns shares into rows per day at Scale 1: option chains get
// 50 shares, so 200 rows a day. It is tuned so Scale 1 comes to tens of MB:
// big enough for sizes and compression to mean something, small enough to
// seed in seconds. A native-partitioned seed has a floor of about 40 MB
// whatever the rows, since each of its ~1000 partitions costs 32-48 kB of
// empty heap, index and TOAST pages. The same fixed costs mean compression
// does not pay at Scale 1 for option_chain_snapshots: a day's 200 rows
// (~27 kB) compress into a chunk that is bigger, not smaller, than the
// uncompressed one; ml_features still shrinks (repeated jsonb keys), and
// by Scale 16 option chains shrink about 2x and features 5x.
const rowsPerShare = 4

var volumes = map[string]volume{
	"option_chain_snapshots": {share: 50, unit: chainSize, seed: 0.11, sql: optionChainSQL},
	"ml_features":            {share: 30, unit: 1, seed: 0.22, sql: mlFeaturesSQL},
	"multi_resolution_bars":  {share: 10, unit: len(symbols), seed: 0.33, sql: barsSQL},
	"macro_signals":          {share: 1, unit: 1, seed: 0.44, sql: macroSQL},
	"vix_term_structure":     {share: 0.5, unit: len(vixTenors), seed: 0.55, sql: vixSQL},
	"trade_history":          {share: 0.1, unit: 1, seed: 0.66, sql: tradesSQL},
}

// rowsPerDay scales a table's daily count, keeping at least one whole unit so
// that every day has rows in every table at any Scale.
func (v volume) rowsPerDay(scale float64) int {
	units := int(math.Round(v.share * rowsPerShare * scale / float64(v.unit)))
	return max(units, 1) * v.unit
}

// fill inserts every table's rows with INSERT … SELECT generate_series: the
// data never crosses the network, and the server inserts it in time order,
// the way a live feed appends it. Each statement covers at most batchDays
// days, so it locks at most that many partitions or chunks. The random
// sequence set by setseed simply continues from one batch to the next.
func fill(ctx context.Context, conn *pgx.Conn, sp span, scale float64, rows map[string]int64, progress func(string)) error {
	for _, t := range tables {
		v := volumes[t.name]
		progress("filling " + t.name)
		if _, err := conn.Exec(ctx, "SELECT setseed($1)", v.seed); err != nil {
			return fmt.Errorf("setseed: %w", err)
		}
		perDay := v.rowsPerDay(scale)
		// The generator counts rows in int4 (array subscripts need it).
		if int64(batchDays)*int64(perDay) > math.MaxInt32 {
			return fmt.Errorf("filling %s: %d rows a day is too many; lower Scale", t.name, perDay)
		}
		for first := 0; first < sp.days; first += batchDays {
			n := min(batchDays, sp.days-first)
			args := []any{sp.firstDay, sp.start, sp.end, n, perDay, first}
			if t.name == "ml_features" {
				args = append(args, featureNames())
			}
			tag, err := conn.Exec(ctx, v.sql, args...)
			if err != nil {
				return fmt.Errorf("filling %s: %w", t.name, err)
			}
			rows[t.name] += tag.RowsAffected()
		}
	}
	return nil
}

// rowsCTE is the row generator every fill shares. Parameters: $1 the span's
// first UTC midnight, $2 start, $3 end (Now), $4 number of days in this
// batch, $5 rows per day, $6 the batch's first day (0 = the span's first).
// Its CTE g yields, in time order, one row per (day d, index i) with the
// day's bounds [lo, hi) clipped to [start, end), a timestamp ts spread evenly
// over them with jitter, x (days since $1, fractional, for smooth price
// trends) and the random draws r1..rN.
//
// All random() calls sit in the MATERIALIZED CTE r, so each is drawn once per
// row in a fixed order. Anywhere else the planner may copy an expression into
// each place that refers to it, and a random() in it would then be drawn
// again at every reference: ts and the x computed from it would disagree.
func rowsCTE(randoms int) string {
	var r strings.Builder
	for k := 1; k <= randoms; k++ {
		fmt.Fprintf(&r, ", random() AS r%d", k)
	}
	var cols strings.Builder
	for k := 1; k <= randoms; k++ {
		fmt.Fprintf(&cols, ", r%d", k)
	}
	return `r AS MATERIALIZED (
	SELECT n, random() AS jitter` + r.String() + `
	FROM generate_series(0, $4::int * $5::int - 1) AS s(n)
), g AS (
	SELECT d, i, lo, hi, ts, x` + cols.String() + `
	FROM r
	CROSS JOIN LATERAL (SELECT $6::int + n / $5::int AS d, n % $5::int AS i) AS di
	CROSS JOIN LATERAL (SELECT greatest($1::timestamptz + d * interval '24 hours', $2::timestamptz) AS lo,
	                           least($1::timestamptz + (d + 1) * interval '24 hours', $3::timestamptz) AS hi) AS b
	CROSS JOIN LATERAL (SELECT least(lo + (hi - lo) * ((i + jitter) / $5::int), hi - interval '1 microsecond') AS ts) AS t
	CROSS JOIN LATERAL (SELECT extract(epoch FROM ts - $1::timestamptz)::float8 / 86400 AS x) AS xx
)`
}

// Underlyings shared by the option chains, features, bars and trades, with
// a base price and option strike step.
var symbols = []struct {
	name       string
	base, step float64
}{
	{"SPY", 540, 1}, {"QQQ", 470, 1}, {"IWM", 210, 1}, {"AAPL", 225, 2.5}, {"NVDA", 120, 1}, {"TSLA", 250, 2.5},
}

var vixTenors = []string{"VIX9D", "VIX", "VIX3M", "VIX6M", "VIX1Y"}

func symbolArray() string {
	var names []string
	for _, s := range symbols {
		names = append(names, quoteLiteral(s.name))
	}
	return "(ARRAY[" + strings.Join(names, ", ") + "])"
}

func floatArray(f func(int) float64, n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprint(f(i)))
	}
	return "(ARRAY[" + strings.Join(parts, ", ") + "]::float8[])"
}

// priceExpr is symbol k's price at day x: a smooth deterministic trend (two
// sine waves), so option strikes, bars and trades of one symbol agree.
func priceExpr(k, x string) string {
	base := floatArray(func(i int) float64 { return symbols[i].base }, len(symbols))
	return fmt.Sprintf("%s[%s + 1] * exp(0.12 * sin(%s / 17.0 + %s) + 0.04 * sin(%s / 3.1 + 2 * %s))", base, k, x, k, x, k)
}

// chainSize is the number of contracts in one snapshot of a chain: five
// strikes around the money, call and put.
const chainSize = 10

// optionChainSQL writes chain snapshots: every chainSize rows share a
// timestamp, symbol, exchange and expiry, with strikes on the symbol's grid
// around the money, the way a poller stores a chain it fetched. Snapshots
// are evenly spaced through each day. Repeated timestamps, strikes and
// expiries are also what gives columnar compression something to work on.
//
// Each contract is priced with a Black-Scholes approximation (zero rates,
// logistic normal CDF) so bid/ask, IV and greeks are mutually plausible: a
// maintenance console never reads them, but a demo someone queries should not
// show a put with a positive delta.
//
// The formulas are staged in LATERAL subqueries, and "OFFSET 0" keeps the
// planner from flattening them: flattened, every reference to a stage's
// column is replaced by its whole formula, the nested expressions grow
// exponentially, and the fill takes a minute instead of half a second.
var optionChainSQL = `WITH ` + rowsCTE(5) + fmt.Sprintf(`
INSERT INTO public.option_chain_snapshots
	("timestamp", exchange, symbol, expiry, strike, option_type, bid, ask, last, volume, open_interest,
	 iv, delta, gamma, theta, vega)
SELECT snap, (ARRAY['CBOE', 'ISE', 'PHLX', 'MIAX'])[(j / 6) %% 4 + 1], %[2]s[k + 1],
	expiry, strike, typ,
	round(mid * (1 - spread / 2) * 100) / 100,
	round(mid * (1 + spread / 2) * 100) / 100,
	round(mid * (1 + spread * (r2 - 0.5)) * 100) / 100,
	floor(power(r3, 3) * 4000 * exp(-6 * abs(ln(strike / spot))))::bigint,
	floor(r4 * 50000 * exp(-8 * abs(ln(strike / spot))))::bigint,
	round(iv * 10000) / 10000,
	CASE typ WHEN 'C' THEN nd1 ELSE nd1 - 1 END,
	pdf / (spot * iv * sqrt(tt)),
	-(spot * pdf * iv) / (2 * sqrt(tt)) / 365,
	spot * pdf * sqrt(tt) / 100
FROM g
CROSS JOIN LATERAL (SELECT i / %[1]d AS j, i %% %[1]d AS c) AS a
CROSS JOIN LATERAL (SELECT j %% 6 AS k, CASE WHEN c %% 2 = 0 THEN 'C' ELSE 'P' END AS typ,
                           (ARRAY[7, 14, 28, 56])[(j / 24) %% 4 + 1] AS dte,
                           least(lo + (hi - lo) * ((j + 0.5) / ($5::int / %[1]d)), hi - interval '1 microsecond') AS snap) AS b
CROSS JOIN LATERAL (SELECT extract(epoch FROM snap - $1::timestamptz)::float8 / 86400 AS xs) AS xx
CROSS JOIN LATERAL (SELECT %[3]s AS spot, %[4]s[k + 1] AS step,
                           (snap AT TIME ZONE 'UTC')::date + dte AS e OFFSET 0) AS sp
CROSS JOIN LATERAL (SELECT step * greatest(1, round(spot * 0.0125 / step)) AS gap,
                           round(spot / step) * step AS atm) AS gr
CROSS JOIN LATERAL (SELECT greatest(step, atm + (c / 2 - 2) * gap) AS strike,
                           e + (12 - extract(isodow FROM e)::int) %% 7 AS expiry, -- the Friday on or after e
                           dte / 365.0::float8 AS tt,
                           0.02 + 0.04 * r5 AS spread OFFSET 0) AS st
CROSS JOIN LATERAL (SELECT 0.2 + 0.06 * sin(xs / 11 + k) + 0.8 * power(ln(strike / spot), 2) + 0.01 * r1 AS iv OFFSET 0) AS v
CROSS JOIN LATERAL (SELECT (ln(spot / strike) + 0.5 * iv * iv * tt) / (iv * sqrt(tt)) AS d1 OFFSET 0) AS dd
CROSS JOIN LATERAL (SELECT 1 / (1 + exp(-1.702 * d1)) AS nd1, 1 / (1 + exp(-1.702 * (d1 - iv * sqrt(tt)))) AS nd2,
                           exp(-d1 * d1 / 2) / sqrt(2 * pi()) AS pdf OFFSET 0) AS n
CROSS JOIN LATERAL (SELECT spot * nd1 - strike * nd2 AS call) AS p
CROSS JOIN LATERAL (SELECT greatest(0.05, CASE typ WHEN 'C' THEN call ELSE call - spot + strike END) AS mid) AS m`,
	chainSize, symbolArray(),
	priceExpr("k", "xs"),
	floatArray(func(i int) float64 { return symbols[i].step }, len(symbols)))

// Feature names: model v3.2 uses the first 24, v4.1 all 32, and v5.0-embed
// (one row in 40) adds 256 embedding dimensions: some 7 kB of jsonb that
// stays over 2 kB even compressed, so those rows go out of line to TOAST, as
// real feature stores' wide rows do.
var baseFeatures = []string{
	"ret_1m", "ret_5m", "ret_15m", "ret_1h", "ret_4h", "ret_1d", "vol_5m", "vol_1h",
	"vol_1d", "rsi_14", "macd", "macd_signal", "bb_width", "atr_14", "obv_z", "vwap_dev",
	"iv_rank", "iv_percentile", "skew_25d", "term_slope", "put_call_ratio", "oi_change", "gamma_exposure", "vix_level",
	"vix_term_ratio", "spread_bps", "depth_imbalance", "trade_imbalance", "news_sentiment", "news_count", "beta_spy", "corr_qqq",
}

const embeddingDims = 256

func featureNames() []string {
	names := append([]string(nil), baseFeatures...)
	for i := range embeddingDims {
		names = append(names, fmt.Sprintf("emb_%03d", i))
	}
	return names
}

// mlFeaturesSQL builds each row's jsonb in a LATERAL subquery that refers to
// the row's model version, so it runs (and draws fresh random values) once
// per row instead of once for the whole statement. $7 is featureNames().
// v4.1 replaced v3.2 100 days before Now.
var mlFeaturesSQL = `WITH ` + rowsCTE(1) + fmt.Sprintf(`
INSERT INTO public.ml_features ("timestamp", exchange, symbol, model_version, features, label)
SELECT ts, (ARRAY['CBOE', 'ISE', 'PHLX', 'MIAX'])[(i / 6) %% 4 + 1], `+symbolArray()+`[i %% 6 + 1],
	mv, f.features, round((r1 - 0.5) * 0.04 * 1e6) / 1e6
FROM g
CROSS JOIN LATERAL (SELECT CASE WHEN i %% 40 = 39 THEN 'v5.0-embed' WHEN ts < $3::timestamptz - interval '100 days' THEN 'v3.2' ELSE 'v4.1' END AS mv) AS m
CROSS JOIN LATERAL (
	SELECT jsonb_object_agg(name, round((random() * 2 - 1)::numeric, 4)) AS features
	FROM unnest($7::text[]) WITH ORDINALITY AS fn(name, ord)
	WHERE ord <= CASE m.mv WHEN 'v3.2' THEN 24 WHEN 'v4.1' THEN %d ELSE %d END
) AS f`, len(baseFeatures), len(baseFeatures)+embeddingDims)

// barsSQL stores bars of four resolutions: per symbol and day one daily bar
// and a sample of hourly, 5-minute and 1-minute bars, each stamped with the
// start of its bucket and with a range that grows with the resolution.
var barsSQL = `WITH ` + rowsCTE(5) + `
INSERT INTO public.multi_resolution_bars (bar_time, symbol, resolution, open, high, low, close, volume)
SELECT date_bin(step, ts, $1::timestamptz), ` + symbolArray() + `[k + 1], res,
	round(o * 100) / 100, round(greatest(o, c) * (1 + vf * r3 / 2) * 100) / 100,
	round(least(o, c) * (1 - vf * r4 / 2) * 100) / 100, round(c * 100) / 100,
	floor(basevol * (0.5 + r5))::bigint
FROM g
CROSS JOIN LATERAL (SELECT i % 6 AS k, i / 6 AS j) AS a
CROSS JOIN LATERAL (SELECT CASE WHEN j = 0 THEN '1d' WHEN j % 3 = 1 THEN '1h' WHEN j % 3 = 2 THEN '5m' ELSE '1m' END AS res) AS rr
CROSS JOIN LATERAL (SELECT CASE res WHEN '1d' THEN interval '1 day' WHEN '1h' THEN interval '1 hour'
                                    WHEN '5m' THEN interval '5 minutes' ELSE interval '1 minute' END AS step,
                           CASE res WHEN '1d' THEN 0.02 WHEN '1h' THEN 0.008 WHEN '5m' THEN 0.0025 ELSE 0.001 END AS vf,
                           CASE res WHEN '1d' THEN 25e6 WHEN '1h' THEN 1.2e6 WHEN '5m' THEN 1e5 ELSE 2e4 END AS basevol,
                           ` + priceExpr("k", "x") + ` AS p OFFSET 0) AS s
CROSS JOIN LATERAL (SELECT p * (1 + vf * (r1 - 0.5)) AS o, p * (1 + vf * (r2 - 0.5)) AS c OFFSET 0) AS oc`

var macroSignals = []struct {
	name, source string
	base, amp    float64
}{
	{"fed_funds_rate", "FRED", 4.33, 0.25}, {"us10y_yield", "FRED", 4.2, 0.35}, {"us2y_yield", "FRED", 3.9, 0.4},
	{"dxy", "ICE", 104, 3}, {"cpi_yoy", "BLS", 2.9, 0.3}, {"unemployment_rate", "BLS", 4.1, 0.2},
	{"ism_pmi", "ISM", 49.5, 2}, {"hy_credit_spread", "FRED", 3.1, 0.5}, {"wti_crude", "CME", 72, 6},
	{"gold", "COMEX", 2650, 120},
}

func macroArrays() (names, sources, base, amp string) {
	var n, s []string
	for _, m := range macroSignals {
		n = append(n, quoteLiteral(m.name))
		s = append(s, quoteLiteral(m.source))
	}
	count := len(macroSignals)
	return "(ARRAY[" + strings.Join(n, ", ") + "])", "(ARRAY[" + strings.Join(s, ", ") + "])",
		floatArray(func(i int) float64 { return macroSignals[i].base }, count),
		floatArray(func(i int) float64 { return macroSignals[i].amp }, count)
}

// macroSQL rotates through the signals across days ((d*n + i) mod count), so
// at small scales every signal still appears.
var macroSQL = func() string {
	names, sources, base, amp := macroArrays()
	return `WITH ` + rowsCTE(1) + fmt.Sprintf(`
INSERT INTO public.macro_signals ("timestamp", signal_name, value, source)
SELECT ts, %s[q + 1], round((%s[q + 1] + %s[q + 1] * (sin(x / 30 + q) + 0.05 * (r1 - 0.5))) * 10000) / 10000, %s[q + 1]
FROM g
CROSS JOIN LATERAL (SELECT ((d::bigint * $5::int + i) %% %d)::int AS q) AS a`, names, base, amp, sources, len(macroSignals))
}()

// vixSQL writes whole curves: the tenors of one snapshot share a timestamp.
// The curve sits in contango, except during periodic spikes that lift the
// front and invert it into backwardation.
var vixSQL = func() string {
	var tenors []string
	for _, t := range vixTenors {
		tenors = append(tenors, quoteLiteral(t))
	}
	offsets := floatArray(func(i int) float64 { return []float64{-1.2, 0, 1.6, 2.4, 3.1}[i] }, len(vixTenors))
	n := len(vixTenors)
	return `WITH ` + rowsCTE(1) + fmt.Sprintf(`
INSERT INTO public.vix_term_structure ("timestamp", tenor, value)
SELECT least(lo + (hi - lo) * ((i / %d + 0.5) / ($5::int / %d)), hi - interval '1 microsecond'),
	(ARRAY[%s])[i %% %d + 1],
	round((16 + 4 * sin(x / 25) + spike + %s[i %% %d + 1] * (1 - spike / 6) + 0.3 * (r1 - 0.5)) * 100) / 100
FROM g
CROSS JOIN LATERAL (SELECT 12 * power(greatest(0, sin(x / 13)), 12) AS spike) AS s`, n, n, strings.Join(tenors, ", "), n, offsets, n)
}()

// tradesSQL: buys open positions (no realised P&L yet), sells close them.
var tradesSQL = `WITH ` + rowsCTE(6) + `
INSERT INTO public.trade_history (executed_at, symbol, side, quantity, price, strategy, pnl)
SELECT ts, ` + symbolArray() + `[k + 1], side, 1 + floor(r2 * 200)::int,
	round((` + priceExpr("k", "x") + ` * (1 + 0.002 * (r3 - 0.5)))::numeric, 4),
	(ARRAY['iron_condor', 'momentum', 'mean_reversion', 'vol_arb', 'gamma_scalp'])[floor(r4 * 5)::int + 1],
	CASE side WHEN 'sell' THEN round(((r5 - 0.46) * 800)::numeric, 4) END
FROM g
CROSS JOIN LATERAL (SELECT floor(r6 * 6)::int AS k, CASE WHEN r1 < 0.5 THEN 'buy' ELSE 'sell' END AS side) AS a`
