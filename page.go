package flexd

// Page selects one page of a list: Atlas's pageNum (from 1) and itemsPerPage.
// Count asks for the total number of items (includeCount). Peek asks for the
// first item of the next page too, after the page's own (so a list returns
// up to ItemsPerPage+1 items): whether a next page exists is then known from
// the one read, without counting or asking again.
type Page struct {
	Num          int
	ItemsPerPage int
	Count        bool
	Peek         bool
}

// Offset is the number of items before this page.
func (p Page) Offset() int { return (p.Num - 1) * p.ItemsPerPage }

// NoCount is the total a list returns when Page.Count was false.
const NoCount = -1
