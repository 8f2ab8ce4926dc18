package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// column is one column of a pane's grid. Columns are dropped by priority
// (highest number first) until the rest fit the pane's width; a flex column
// takes the width left over.
type column struct {
	title    string
	width    int
	right    bool
	priority int
	flex     bool
}

// fitColumns returns the indexes of the columns that fit in width (one space
// between columns) and their final widths.
func fitColumns(cols []column, width int) (keep []int, widths []int) {
	maxPrio := 0
	for _, c := range cols {
		maxPrio = max(maxPrio, c.priority)
	}
	for limit := maxPrio; limit >= 0; limit-- {
		keep, widths = keep[:0], widths[:0]
		used := 0
		for i, c := range cols {
			if c.priority <= limit {
				keep = append(keep, i)
				widths = append(widths, c.width)
				used += c.width
			}
		}
		used += max(len(keep)-1, 0)
		if used <= width || limit == 0 {
			// Give the slack to the flex column (or the first one).
			slack := width - used
			if slack > 0 {
				for j, i := range keep {
					if cols[i].flex {
						widths[j] += slack
						slack = 0
						break
					}
				}
			}
			if slack < 0 { // even the essentials overflow: squeeze the first column
				widths[0] = max(widths[0]+slack, 3)
			}
			return keep, widths
		}
	}
	return keep, widths
}

// cell pads or truncates s (which may hold styles) to exactly w cells.
func cell(s string, w int, right bool, ellipsis string) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, ellipsis)
	}
	pad := strings.Repeat(" ", w-sw)
	if right {
		return pad + s
	}
	return s + pad
}

// paint says how a grid row is styled. Cells are plain text (or, in an
// unstyled row, pre-styled text); the row style is drawn over whole padded
// runs of cells and own cell styles over it. Nothing styled is ever nested
// in another style: the inner reset would end the row's background mid-line.
type paint struct {
	row    lipgloss.Style
	styled bool                   // row applies; false leaves the cells as they are
	own    map[int]lipgloss.Style // by column index, drawn over the row style
}

func rowPaint(st lipgloss.Style) paint { return paint{row: st, styled: true} }

// gridRow lays out the kept cells of one row.
func gridRow(cols []column, keep, widths []int, cells []string, ellipsis string, pt paint) string {
	var out, run strings.Builder
	flush := func() {
		if run.Len() == 0 {
			return
		}
		if pt.styled {
			out.WriteString(pt.row.Render(run.String()))
		} else {
			out.WriteString(run.String())
		}
		run.Reset()
	}
	for j, i := range keep {
		if j > 0 {
			run.WriteByte(' ')
		}
		text := cell(cells[i], widths[j], cols[i].right, ellipsis)
		own, ok := pt.own[i]
		if !ok {
			run.WriteString(text)
			continue
		}
		flush()
		if pt.styled {
			own = own.Inherit(pt.row)
		}
		out.WriteString(own.Render(text))
	}
	flush()
	return out.String()
}

// gridHeader renders the column titles.
func gridHeader(cols []column, keep, widths []int, style lipgloss.Style, ellipsis string) string {
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	return gridRow(cols, keep, widths, titles, ellipsis, rowPaint(style))
}

// fitBlock pads or cuts lines to exactly h lines of exactly w cells.
func fitBlock(lines []string, w, h int, ellipsis string) string {
	for len(lines) < h {
		lines = append(lines, "")
	}
	lines = lines[:h]
	for i := range lines {
		lines[i] = fitLine(lines[i], w, ellipsis)
	}
	return strings.Join(lines, "\n")
}

// fitLine pads or truncates a rendered line to exactly w cells, ending a
// cut line with ellipsis.
func fitLine(s string, w int, ellipsis string) string { return cell(s, w, false, ellipsis) }

// bar draws a horizontal bar of width w filled to frac (0..1), with half
// steps in Unicode.
func bar(frac float64, w int, full, half, empty string) (filled, rest string) {
	if w <= 0 {
		return "", ""
	}
	frac = min(max(frac, 0), 1)
	halves := int(frac*float64(2*w) + 0.5)
	n := halves / 2
	filled = strings.Repeat(full, n)
	if halves%2 == 1 && n < w {
		filled += half
		n++
	}
	return filled, strings.Repeat(empty, w-n)
}
