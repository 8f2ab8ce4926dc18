package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// listCursor keeps a selected row and the scroll offset that shows it.
type listCursor struct {
	index, offset, n, height int
}

func (c *listCursor) setLen(n int) {
	c.n = n
	c.clamp()
}

func (c *listCursor) setHeight(h int) {
	c.height = max(h, 1)
	c.clamp()
}

func (c *listCursor) move(delta int) {
	c.index += delta
	c.clamp()
}

func (c *listCursor) top()    { c.index, c.offset = 0, 0 }
func (c *listCursor) bottom() { c.index = c.n - 1; c.clamp() }

func (c *listCursor) clamp() {
	c.index = min(max(c.index, 0), max(c.n-1, 0))
	if c.index < c.offset {
		c.offset = c.index
	}
	if c.index >= c.offset+c.height {
		c.offset = c.index - c.height + 1
	}
	c.offset = min(max(c.offset, 0), max(c.n-c.height, 0))
}

// find moves the cursor to the first of the n rows that match, and says
// whether one did (a refresh or a re-sort keeps the cursor on its row).
func (c *listCursor) find(n int, match func(i int) bool) bool {
	c.setLen(n)
	for i := range n {
		if match(i) {
			c.index = i
			c.clamp()
			return true
		}
	}
	return false
}

// visible returns the half-open range of rows on screen.
func (c *listCursor) visible() (from, to int) {
	return c.offset, min(c.offset+c.height, c.n)
}

// navigate moves the cursor for the list keys (up, down, page up/down,
// top, bottom) and reports whether msg was one of them.
func (c *listCursor) navigate(msg tea.KeyPressMsg, k KeyMap) bool {
	switch {
	case key.Matches(msg, k.Up):
		c.move(-1)
	case key.Matches(msg, k.Down):
		c.move(1)
	case key.Matches(msg, k.PageUp):
		c.move(-c.height)
	case key.Matches(msg, k.PageDown):
		c.move(c.height)
	case key.Matches(msg, k.Top):
		c.top()
	case key.Matches(msg, k.Bottom):
		c.bottom()
	default:
		return false
	}
	return true
}
