package locate

// Raster cell states.
const (
	cellUnknown uint8 = iota // during the build only
	cellEdge                 // an edge may pass through: test the edges
	cellIn                   // every point of the cell is inside
	cellOut                  // every point of the cell is outside
)

// buildRaster cuts pg's box into nx × ny cells and classifies them. A cell
// is cellEdge when the box of some edge overlaps it; since the slice
// mappings are monotonic, no edge then comes near the points of any other
// cell, nor between two such cells next to each other in a row or a
// column. A row's run of edge-free cells therefore lies in one region, as
// does any edge-free cell right below it: one exact test of a point of the
// run's first cell, or the state of a cell below, classifies the whole run.
func (s *scratch) buildRaster(pg *polygon, nx, ny int) {
	pg.cx = newAxis(pg.bound.Min[0], pg.bound.Max[0], nx)
	pg.cy = newAxis(pg.bound.Min[1], pg.bound.Max[1], ny)
	nx, ny = pg.cx.n(), pg.cy.n()
	col, row := resize(&s.col, len(pg.pts)), resize(&s.row, len(pg.pts))
	for i, p := range pg.pts {
		col[i], row[i] = int32(pg.cx.slice(p[0])), int32(pg.cy.slice(p[1]))
	}
	cells := make([]uint8, nx*ny)
	for r := 0; r+1 < len(pg.rings); r++ {
		for e := int(pg.rings[r]); e+1 < int(pg.rings[r+1]); e++ {
			i0, i1 := minmax(col[e], col[e+1])
			j0, j1 := minmax(row[e], row[e+1])
			if i0 == i1 && j0 == j1 { // the usual short edge
				cells[int(j0)*nx+int(i0)] = cellEdge
				continue
			}
			for j := j0; j <= j1; j++ {
				line := cells[int(j)*nx : int(j+1)*nx]
				for i := i0; i <= i1; i++ {
					line[i] = cellEdge
				}
			}
		}
	}
	for j := 0; j < ny; j++ {
		line := cells[j*nx : (j+1)*nx]
		var below []uint8
		if j > 0 {
			below = cells[(j-1)*nx : j*nx]
		}
		y := pg.cy.centre(j)
		for i := 0; i < nx; {
			if line[i] == cellEdge {
				i++
				continue
			}
			// A run of edge-free cells: one region. A classified cell
			// right below any of them is in the same region.
			end := i
			state := cellUnknown
			for ; end < nx && line[end] != cellEdge; end++ {
				if below != nil && (below[end] == cellIn || below[end] == cellOut) {
					state = below[end]
				}
			}
			if state == cellUnknown {
				x := pg.cx.centre(i)
				if pg.cy.slice(y) != j || pg.cx.slice(x) != i {
					line[i] = cellEdge // no representative point: let edges decide
					i++
					continue
				}
				state = cellOut
				if pg.edgeContains(x, y) {
					state = cellIn
				}
			}
			for ; i < end; i++ {
				line[i] = state
			}
		}
	}
	pg.cells = cells
}
