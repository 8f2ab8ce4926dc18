package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// box draws a border around content whose lines are all exactly w-2 cells
// wide and h-2 lines long (paneBase.frame makes them so), giving a block of
// exactly w×h. It is drawn here rather than by lipgloss's Style.Border
// because the content is already laid out: lipgloss would measure, wrap
// and pad every line again, which was most of the cost of a frame.
func box(content string, w, h int, b lipgloss.Border, st lipgloss.Style) []string {
	inner := max(w-2, 0)
	lines := make([]string, 0, h)
	lines = append(lines, st.Render(b.TopLeft+strings.Repeat(b.Top, inner)+b.TopRight))
	left, right := st.Render(b.Left), st.Render(b.Right)
	body := strings.Split(content, "\n")
	for i := range max(h-2, 0) {
		line := strings.Repeat(" ", inner)
		if i < len(body) {
			line = body[i]
		}
		lines = append(lines, left+line+right)
	}
	return append(lines, st.Render(b.BottomLeft+strings.Repeat(b.Bottom, inner)+b.BottomRight))
}

// joinBoxes puts two boxes of the same height side by side.
func joinBoxes(a, b []string) string {
	out := make([]string, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return strings.Join(out, "\n")
}
