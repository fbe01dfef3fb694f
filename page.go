package flexd

// Page selects one page of a list: Atlas's pageNum (from 1) and itemsPerPage.
// Count asks for the total number of items (includeCount).
type Page struct {
	Num          int
	ItemsPerPage int
	Count        bool
}

// Offset is the number of items before this page.
func (p Page) Offset() int { return (p.Num - 1) * p.ItemsPerPage }

// NoCount is the total a list returns when Page.Count was false.
const NoCount = -1
