package demo

import (
	"math"
	"strconv"
	"time"
)

// An option chain snapshot is what a poller stores each time it fetches
// one symbol's chain from one exchange: chainExpiries weekly expiries x
// chainStrikes strikes on the symbol's grid around the money x call/put,
// all stamped with the fetch's time. Real chains compress many times over
// because a compressed batch (one exchange's next thousand rows, by time)
// holds few distinct values per column: six symbols, a few expiries and
// strikes on a grid, quotes on a tick grid that move slowly with the
// underlying, open interest that changes once a day. The generator keeps
// exactly that structure, so the ratio the Chunks pane shows is the one a
// live system gets (about 5x at Scale 1, where each exchange's day is one
// batch; see TestDemoShowsEveryFeature).
const (
	chainExpiries = 4
	chainStrikes  = 10
	chainSize     = chainExpiries * chainStrikes * 2
	// fetchesPerDay at Scale 1: two rounds of every exchange and symbol,
	// so each exchange's segment of a daily chunk holds 12 snapshots (960
	// rows): one full compressed batch (TimescaleDB batches 1,000 rows).
	fetchesPerDay = 2 * 4 * 6
)

var exchanges = []string{"CBOE", "ISE", "PHLX", "MIAX"}

// Implied volatility at the money, per symbol: index ETFs calm, single
// stocks less so.
var atmVol = []float64{0.14, 0.18, 0.21, 0.24, 0.45, 0.52}

// chainFetches is the number of snapshots a day at this scale.
func chainFetches(scale float64) int { return max(1, int(math.Round(fetchesPerDay*scale))) }

// spot is symbol k's price x days after the span's first midnight: the
// same curve priceExpr gives the SQL generators, so option strikes, bars
// and trades of one symbol agree.
func spot(k int, x float64) float64 {
	fk := float64(k)
	return symbols[k].base * math.Exp(0.12*math.Sin(x/17.0+fk)+0.04*math.Sin(x/3.1+2*fk))
}

// normCDF is the standard normal distribution function.
func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// appendChainDay appends, as COPY text lines, every snapshot of day d of
// the span (fetches snapshots spread evenly over the part of the day inside
// the span). Fetch j reads exchange/symbol pair (d*fetches + j) mod 24, so
// small scales still cycle through all of them across days.
func appendChainDay(buf []byte, sp span, d, fetches int) []byte {
	lo, hi, ok := sp.dayBounds(d)
	if !ok {
		return buf
	}
	midnight := sp.dayStart(d)
	for j := range fetches {
		ts := lo.Add(time.Duration(float64(hi.Sub(lo)) * (float64(j) + 0.5) / float64(fetches))).Truncate(time.Microsecond)
		pair := (d*fetches + j) % (len(exchanges) * len(symbols))
		buf = appendSnapshot(buf, sp, d, ts, midnight, pair/len(symbols), pair%len(symbols))
	}
	return buf
}

// appendSnapshot appends one fetch: for each expiry and strike the call
// and the put, priced with Black-Scholes (zero rates) on a volatility
// smile, quoted on the exchange's tick grid.
func appendSnapshot(buf []byte, sp span, d int, ts, midnight time.Time, ex, k int) []byte {
	x := ts.Sub(sp.firstDay).Hours() / 24
	s := spot(k, x)
	// The strike grid and open interest follow the day's opening price:
	// listed strikes do not move intraday, and open interest is published
	// once a day.
	s0 := spot(k, float64(d))
	step := symbols[k].step
	gap := step * max(1, math.Round(s0*0.0125/step))
	atm := math.Round(s0/step) * step
	dayFrac := ts.Sub(midnight).Hours() / 24
	// The first expiry is the next Friday strictly after today.
	toFriday := (int(time.Friday) - int(midnight.Weekday()) + 7) % 7
	if toFriday == 0 {
		toFriday = 7
	}
	prefix := appendTimestamp(nil, ts)
	prefix = append(prefix, '\t')
	prefix = append(prefix, exchanges[ex]...)
	prefix = append(prefix, '\t')
	prefix = append(prefix, symbols[k].name...)
	prefix = append(prefix, '\t')
	for e := range chainExpiries {
		expiry := midnight.AddDate(0, 0, toFriday+7*e)
		tt := max(0.5/24, expiry.Add(20*time.Hour).Sub(ts).Hours()/24) / 365
		for i := range chainStrikes {
			strike := math.Max(step, atm+float64(i-chainStrikes/2)*gap)
			m, m0 := math.Log(strike/s), math.Log(strike/s0)
			iv := atmVol[k] + 0.03*math.Sin(x/11+float64(k)) + 0.01*float64(e) - 0.25*m + 0.8*m*m
			sd := iv * math.Sqrt(tt)
			d1 := (-m + 0.5*sd*sd) / sd
			nd1, pdf := normCDF(d1), math.Exp(-d1*d1/2)/math.Sqrt(2*math.Pi)
			call := s*nd1 - strike*normCDF(d1-sd)
			gamma := pdf / (s * sd)
			theta := -s * pdf * iv / (2 * math.Sqrt(tt)) / 365
			vega := s * pdf * math.Sqrt(tt) / 100
			// Volume is the day's running total, so it grows through the
			// day; both it and open interest fall off away from the money.
			volBase := 3000 * math.Exp(-6*math.Abs(m)) * (1.2 + math.Sin(1.7*float64(d)+float64(i+k))) * (0.1 + 0.9*dayFrac)
			oiBase := 40000 * math.Exp(-5*math.Abs(m0)) * (1 + 0.1*math.Sin(float64(d)/5+float64(i+k)))
			for _, put := range []bool{false, true} {
				mid, delta, tilt := math.Max(0, call), nd1, 1.1-m0
				if put {
					mid, delta, tilt = math.Max(0, call-s+strike), nd1-1, 0.9+m0
				}
				tilt = math.Max(0.1, tilt)
				buf = append(buf, prefix...)
				buf = append(buf, expiry.Format(time.DateOnly)...)
				buf = append(buf, '\t')
				buf = appendFixed(buf, strike, 2)
				if put {
					buf = append(buf, "\tP\t"...)
				} else {
					buf = append(buf, "\tC\t"...)
				}
				buf = appendQuote(buf, mid)
				buf = strconv.AppendInt(buf, int64(volBase*tilt), 10)
				buf = append(buf, '\t')
				buf = strconv.AppendInt(buf, int64(oiBase*tilt), 10)
				for _, g := range []float64{iv, delta, gamma, theta, vega} {
					buf = append(buf, '\t')
					buf = appendFixed(buf, g, 4)
				}
				buf = append(buf, '\n')
			}
		}
	}
	return buf
}

// appendQuote appends bid, ask and last for a contract worth mid: on the
// penny grid below $3 and the nickel grid above, as listed options trade,
// with a spread of 1.5% plus a cent each side. A worthless option is bid
// 0 and offered at one tick.
func appendQuote(buf []byte, mid float64) []byte {
	tick := int64(1)
	if mid >= 3 {
		tick = 5
	}
	half := 0.015*mid + 0.01
	bid := max(0, int64(math.Floor((mid-half)*100/float64(tick)))*tick)
	ask := max(bid+tick, int64(math.Ceil((mid+half)*100/float64(tick)))*tick)
	last := min(ask, max(bid, 1, int64(math.Round(mid*100/float64(tick)))*tick))
	for _, c := range []int64{bid, ask, last} {
		buf = appendCents(buf, c)
		buf = append(buf, '\t')
	}
	return buf
}

// appendFixed appends v rounded to places decimals (COPY text numeric).
func appendFixed(buf []byte, v float64, places int) []byte {
	scale := math.Pow10(places)
	n := int64(math.Round(v * scale))
	if n < 0 {
		buf = append(buf, '-')
		n = -n
	}
	unit := int64(scale)
	buf = strconv.AppendInt(buf, n/unit, 10)
	buf = append(buf, '.')
	frac := strconv.AppendInt(nil, n%unit, 10)
	for range places - len(frac) {
		buf = append(buf, '0')
	}
	return append(buf, frac...)
}

func appendCents(buf []byte, c int64) []byte { return appendFixed(buf, float64(c)/100, 2) }

// appendTimestamp appends t in UTC with an explicit offset, which
// PostgreSQL reads the same under every DateStyle and TimeZone.
func appendTimestamp(buf []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(buf, "2006-01-02 15:04:05.999999-07")
}
