package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// instrumentInfo describes each of the symbols for the instruments table.
var instrumentInfo = map[string]struct{ title, kind string }{
	"SPY":  {"SPDR S&P 500 ETF Trust", "etf"},
	"QQQ":  {"Invesco QQQ Trust", "etf"},
	"IWM":  {"iShares Russell 2000 ETF", "etf"},
	"AAPL": {"Apple Inc.", "stock"},
	"NVDA": {"NVIDIA Corporation", "stock"},
	"TSLA": {"Tesla, Inc.", "stock"},
}

// createInstruments adds the reference table trade_history's symbols point
// to, with a foreign key from trade_history. The key runs from the
// permanent trading record to a table without retention, so it never
// stands in the way of a retention cleanup: no table with a retention
// references anything, and nothing references one.
func createInstruments(ctx context.Context, conn *pgx.Conn) error {
	var values []string
	for _, s := range symbols {
		info := instrumentInfo[s.name]
		values = append(values, fmt.Sprintf("(%s, %s, %s, %v)", quoteLiteral(s.name), quoteLiteral(info.title), quoteLiteral(info.kind), s.step))
	}
	ddl := `CREATE TABLE public.instruments (
	symbol text PRIMARY KEY,
	name text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('etf', 'stock')),
	strike_step numeric(6,2) NOT NULL,
	multiplier int NOT NULL DEFAULT 100
);
INSERT INTO public.instruments (symbol, name, kind, strike_step) VALUES ` + strings.Join(values, ", ") + `;
ALTER TABLE public.trade_history ADD CONSTRAINT trade_history_symbol_fkey
	FOREIGN KEY (symbol) REFERENCES public.instruments (symbol);`
	if _, err := conn.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("creating instruments: %w", err)
	}
	return nil
}
