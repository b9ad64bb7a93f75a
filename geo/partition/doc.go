// Package partition draws grids by residential adjacency: it divides a
// boundary into contiguous, compact grids whose household (or resident)
// weight lies inside a band [Min, Max].
//
// The pipeline is pure Go and works in a local planar frame (metres, an
// equirectangular projection around the boundary's centre):
//
//  1. household points are projected, points outside the boundary are
//     dropped and counted, points at the same place (within 1 cm) are
//     merged into one site with the summed weights;
//  2. a Delaunay triangulation of the sites gives the Voronoi diagram, whose
//     cells are clipped to the boundary by walking every boundary ring
//     through the cells, so neighbouring cells share identical vertices;
//  3. the clipped cells form a graph with rook adjacency (a shared edge of
//     positive length); adjacencies whose sites are separated by a barrier
//     line are removed;
//  4. every connected component is checked for feasibility (some k with
//     k*Min <= W <= k*Max, no single site above Max; an infeasible part is
//     reported with its numbers) and split by recursive spanning-tree
//     bisection with band windows; where no tree offers a legal cut (narrow
//     bands, heavy buildings) the neighbourhood of each grid outside the band
//     is drawn again until all are inside;
//  5. a bounded local search raises Polsby-Popper compactness: boundary cells
//     move between grids and pairs of adjacent grids are re-drawn
//     (merge-split), always keeping the band and contiguity;
//  6. every grid's polygon is traced from the cell edges that are not shared
//     inside the grid, and converted back to longitude/latitude.
//
// Given the same input and seed, Draw returns the same grids (as long as
// Input.TimeBudget does not cut the search short).
package partition
